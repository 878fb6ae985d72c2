# A static flowmeter in an image with nothing else: the live sensor needs
# only CAP_NET_RAW (docs/deploy.md).
#
#   docker build -t flowmeter .
#   docker run --rm --network host --cap-drop ALL --cap-add NET_RAW flowmeter live -i eth0 -o -
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /flowmeter ./cmd/flowmeter

FROM scratch
COPY --from=build /flowmeter /flowmeter
# Root in the container, but run it with every capability dropped except
# NET_RAW (--cap-drop ALL --cap-add NET_RAW): Docker gives a non-root user
# no capability, and a capture socket needs that one. Offline commands need
# none: --user 65534 works for them.
ENTRYPOINT ["/flowmeter"]
CMD ["--help"]
