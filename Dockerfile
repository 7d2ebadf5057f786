# Mailsink: a static binary in an otherwise empty image.
#
#   docker build -t mailsink .
#   docker run --rm -p 1025:1025 -p 8025:8025 mailsink

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY templates templates
COPY static static
# A statically linked glibc binary: the final stage has no libc to link against.
RUN RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release --locked --bin mailsink --target x86_64-unknown-linux-gnu \
 && mkdir -p /rootfs/tmp /rootfs/data /rootfs/etc/ssl/certs \
 && cp target/x86_64-unknown-linux-gnu/release/mailsink /rootfs/mailsink \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && chmod 1777 /rootfs/tmp \
 && chown 65534:65534 /rootfs/data

FROM scratch
COPY --from=build /rootfs/ /
# Inside a container every interface is the container's own.
ENV MAILSINK_SMTP_ADDR=0.0.0.0:1025 \
    MAILSINK_HTTP_ADDR=0.0.0.0:8025 \
    MAILSINK_POP3_ADDR=0.0.0.0:1110 \
    MAILSINK_IMAP_ADDR=0.0.0.0:1143 \
    TMPDIR=/tmp
USER 65534:65534
VOLUME /data
EXPOSE 1025 1110 1143 8025
HEALTHCHECK --interval=15s --timeout=5s --start-period=2s CMD ["/mailsink", "readyz"]
ENTRYPOINT ["/mailsink"]
CMD ["serve"]
