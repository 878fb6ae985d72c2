package model

import (
	"bytes"
	_ "embed"
	"fmt"
)

// defaultModel is the model `flowmeter classify` uses without --model,
// trained on ../shared/datasets by the command in docs/model.md.
//
//go:embed default.json
var defaultModel []byte

// Default returns the embedded default model.
func Default() (*Model, error) {
	m, err := Load(bytes.NewReader(defaultModel))
	if err != nil {
		return nil, fmt.Errorf("embedded default model: %w", err)
	}
	return m, nil
}
