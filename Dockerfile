# ovnctl controller image.
# Build stage: wheels are built here so the final image carries no compilers.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ovnctl ./ovnctl
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Final stage: slim runtime, non-root, read-only root filesystem friendly.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 65532 --no-create-home --shell /usr/sbin/nologin ovnctl
USER 65532:65532
ENTRYPOINT ["ovnctl", "run"]
