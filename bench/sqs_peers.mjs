// The npm peers of bench/runtime_throughput.py: sqs-producer and sqs-consumer, on the venv's node.
//
//   node bench/sqs_peers.mjs '{"mode": "send", "endpoint": "http://localhost:4577", "queueUrl": "...", "count": 2000,
//                             "bodyBytes": 1024, "fifo": false, "groups": 100}'
//   node bench/sqs_peers.mjs '{"mode": "consume", ..., "instances": 4}'
//
// send: one sqs-producer sends `count` bodies (the same bodies as the Python contenders: an 8-digit index padded
// with "x" to bodyBytes), in its batches of 10. consume: `instances` sqs-consumer instances, batchSize 10 and
// handleMessageBatch (their DeleteMessageBatch mode, the same batching as the helpers), until `count` messages
// are handled and deleted. Prints {"seconds": ...}: the time from the first request to the last answer, the SDK
// clients already made (as the Python side times it).

import { SQSClient } from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import { Producer } from "sqs-producer";

const options = JSON.parse(process.argv[2]);
const region = process.env.AWS_REGION || "us-east-1";

function client() {
  // The queue URL names the emulator, not the proxy: always talk to the endpoint given (the proxy).
  return new SQSClient({ region, endpoint: options.endpoint, useQueueUrlAsEndpoint: false });
}

function body(index) {
  const head = String(index).padStart(8, "0");
  return head + "x".repeat(options.bodyBytes - head.length);
}

async function send() {
  const producer = Producer.create({ queueUrl: options.queueUrl, sqs: client(), batchSize: 10 });
  const messages = [];
  for (let i = 0; i < options.count; i++) {
    const message = { id: String(i), body: body(i) };
    if (options.fifo) {
      message.groupId = `g${i % options.groups}`;
      message.deduplicationId = String(i);
    }
    messages.push(message);
  }
  const started = process.hrtime.bigint();
  await producer.send(messages);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function consume() {
  let done = 0;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  const consumers = [];
  for (let n = 0; n < options.instances; n++) {
    const consumer = Consumer.create({
      queueUrl: options.queueUrl,
      sqs: client(),
      batchSize: 10,
      waitTimeSeconds: 1,
      suppressFifoWarning: true,
      handleMessageBatch: async (messages) => messages,
    });
    consumer.on("message_processed", () => {
      done += 1;
      if (done >= options.count) finish();
    });
    consumer.on("error", (error) => {
      console.error(`sqs-consumer error: ${error.message}`);
    });
    consumers.push(consumer);
  }
  const started = process.hrtime.bigint();
  for (const consumer of consumers) consumer.start();
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const consumer of consumers) consumer.stop();
  return seconds;
}

const seconds = options.mode === "send" ? await send() : await consume();
console.log(JSON.stringify({ seconds }));
process.exit(0);
