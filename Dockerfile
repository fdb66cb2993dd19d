# DingChat as a container: a static binary on a distroless base, run as a
# non-root user, data under the /data volume.
#   docker build -t dingchat .
#   docker run -p 8080:8080 -v dingchat-data:/data dingchat
FROM golang:1.26.11 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary (the SQLite driver is pure Go)
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/dingchat ./cmd/dingchat \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dingchat /usr/local/bin/dingchat
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV DINGCHAT_ADDR=0.0.0.0:8080 \
    DINGCHAT_DATA=/data
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/dingchat", "health"]
ENTRYPOINT ["/usr/local/bin/dingchat"]
CMD ["serve"]
