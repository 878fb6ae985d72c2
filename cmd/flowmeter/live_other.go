//go:build !linux

package main

import (
	"errors"

	"github.com/flowmeter/flowmeter/capture"
)

func openLive(iface, bpfText string, promisc bool) (capture.Source, func() liveStats, error, func(), error) {
	return nil, nil, nil, nil, errors.New("live capture needs Linux (AF_PACKET)")
}
