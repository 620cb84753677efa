# The Transcoding worker's image: the package's worker entrypoint around sample_app/handlers/transcoding_worker.py.
# The build context is sample_app/ (staged into cdk.out at synth, built by `cdk deploy`, which needs Docker).
FROM public.ecr.aws/docker/library/python:3.13-slim
# constructs-sqs[runtime]: the worker entrypoint, boto3 and Powertools. Until the package is on PyPI, pass the
# wheel's path in the context instead (docker build --build-arg CONSTRUCTS_SQS=./constructs_sqs-0.2.0-py3-none-any.whl[runtime]).
ARG CONSTRUCTS_SQS="constructs-sqs[runtime]"
RUN pip install --no-cache-dir "${CONSTRUCTS_SQS}"
WORKDIR /app
COPY handlers/ sample_app/handlers/
RUN useradd --uid 10001 --no-create-home worker
USER 10001
CMD ["python", "-m", "constructs_sqs_runtime.worker"]
