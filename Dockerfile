# Mailsink: a static binary in an otherwise empty image.
#
#   docker build -t mailsink .
#   docker run --rm -p 1025:1025 -p 8025:8025 mailsink
#
# The `build` stage compiles from source and lays out the final file system
# with scripts/container-rootfs. The container tests build the same binary
# outside and pass that layout in its place (`--build-context build=DIR`).

FROM rust:1.95-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY templates templates
COPY static static
COPY scripts/container-rootfs scripts/container-rootfs
# A statically linked glibc binary: the final stage has no libc to link against.
# Fat LTO in one codegen unit makes it about 1.6 MB smaller than the release
# profile (thin LTO, four units), at the price of a slower build.
RUN target="$(rustc -vV | sed -n 's/^host: //p')" \
 && RUSTFLAGS='-C target-feature=+crt-static' \
    CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    cargo build --release --locked --bin mailsink --target "$target" \
 && scripts/container-rootfs "target/$target/release/mailsink" /rootfs

FROM scratch
COPY --from=build /rootfs/ /
# Inside a container every interface is the container's own. The variables
# listed in MAILSINK_IMAGE_DEFAULTS are defaults that Mailpit's and MailHog's
# variables (MP_SMTP_BIND_ADDR, MH_UI_BIND_ADDR…) may still replace.
ENV MAILSINK_SMTP_ADDR=0.0.0.0:1025 \
    MAILSINK_HTTP_ADDR=0.0.0.0:8025 \
    MAILSINK_POP3_ADDR=0.0.0.0:1110 \
    MAILSINK_IMAP_ADDR=0.0.0.0:1143 \
    MAILSINK_IMAGE_DEFAULTS="MAILSINK_SMTP_ADDR MAILSINK_HTTP_ADDR MAILSINK_POP3_ADDR MAILSINK_IMAP_ADDR" \
    TMPDIR=/tmp
USER 65534:65534
# Mail persists here with `-v mailsink:/data -e MAILSINK_DB=/data/mailsink.db`.
VOLUME /data
EXPOSE 1025 1110 1143 8025
HEALTHCHECK --interval=15s --timeout=5s --start-period=2s CMD ["/mailsink", "readyz"]
ENTRYPOINT ["/mailsink"]
CMD ["serve"]
