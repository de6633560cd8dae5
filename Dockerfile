# syntax=docker/dockerfile:1
#
# The blog as a small static image:
#   docker build -t blog .
#   docker run -d -p 23234:23234 -p 23235:23235 -v blog-data:/data blog
#   ssh -p 23234 localhost
# Your own posts instead of the built-in ones:
#   docker run ... -v "$PWD/my-posts:/posts:ro" -e BLOG_POSTS_DIR=/posts blog

# Keep the Go version in step with go.mod's go line (cmd/blog/build_test.go checks).
FROM golang:1.26 AS build
WORKDIR /src
# Modules in their own layer: it stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# cmd/blog/build_test.go runs this exact build and checks the binary is static.
RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/blog ./cmd/blog
# The volume's mount point must exist and belong to the runtime user, or a
# fresh volume is root's and the server cannot write its host key there.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/blog /blog
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV BLOG_DATA_DIR=/data
VOLUME /data
# SSH for readers; HTTP for /healthz, /readyz and /metrics; the readers'
# web pages (newsletter confirm and unsubscribe links).
EXPOSE 23234 23235 23238
# Distroless has no shell or curl: the binary checks itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["/blog", "healthcheck"]
ENTRYPOINT ["/blog"]
CMD ["serve"]
