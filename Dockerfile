# The intercom-stream image: one image, the command picks the process (ingress or worker).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY intercom_stream intercom_stream
COPY ingress ingress
COPY stream_app stream_app
COPY schemas schemas
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER app
WORKDIR /home/app
ENV WORKER_DATADIR=/home/app/data INGRESS_SPOOL_DIR=/home/app/spool
EXPOSE 8080 6066 6067
ENTRYPOINT ["intercom-stream"]
CMD ["ingress"]
