# syntax=docker/dockerfile:1
# faultline as a container image, for batch engines (docs/scale.md): a static
# binary on a distroless base, running as a non-root user.
#
#   docker build -t faultline .
#   docker run --rm -v "$PWD/results:/work/results" faultline swarm -seeds 1000 -json-out results/shard-{shard}.jsonl

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), reproducible paths, no VCS stamp (the image is the build:
# every pod of one image reports the same build stamp, a hash of the binary).
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/faultline ./cmd/faultline \
 && /out/faultline list >/dev/null

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/faultline /usr/local/bin/faultline
# Relative paths in the documented commands (results/...) land in /work; mount
# the shared results volume at /work/results.
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/faultline"]
CMD ["-h"]
