"""Benchmarks of constructs-sqs: synth cost against hand-written aws-cdk-lib and AWS Solutions Constructs,
and runtime throughput of the producer / consumer helpers against the local emulator. ``make bench``."""
