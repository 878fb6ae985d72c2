// Package model holds the model file format and inference: a trained
// classifier that gives each flow a score, the probability that it is
// malicious, from the features of the schema it was trained on.
//
// A model file is one JSON document with a format name and version, the
// algorithm and its parameters, the full feature schema of its training data
// (names and hash), the inputs it reads, its preprocessing, its decision
// threshold and how it was trained. Load refuses a file of another format or
// version, a truncated or inconsistent one, and Bind refuses a schema other
// than the model's: a model never silently reads the wrong columns.
package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/flowmeter/flowmeter/feature"
)

// Format and Version identify the file format.
const (
	Format  = "flowmeter-model"
	Version = 1
)

// Algorithms.
const (
	GBDT    = "gbdt"    // gradient-boosted decision trees (flowmeter's trainer)
	LogReg  = "logreg"  // logistic regression on standardised inputs
	XGBoost = "xgboost" // trees imported from an XGBoost JSON model
	Blend   = "blend"   // the mean of a GBDT's and a logistic regression's probabilities
)

// Model is a trained binary classifier.
type Model struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	Algorithm  string    `json:"algorithm"`
	Early      int       `json:"early"`       // early-flow window of the schema
	SchemaHash string    `json:"schema_hash"` // feature.Schema.Hash of the training data
	Schema     []string  `json:"schema"`      // its feature names, in order
	Inputs     []string  `json:"inputs"`      // the features the model reads
	Threshold  float64   `json:"threshold"`   // score ≥ threshold → malicious
	LogReg     *Linear   `json:"logreg,omitempty"`
	Trees      *Ensemble `json:"trees,omitempty"`
	Params     Params    `json:"params,omitempty"`
	Training   *Training `json:"training,omitempty"`

	idx []int // position of each input in a record's Values
}

// Params are the training parameters, for the record.
type Params map[string]any

// Linear is a logistic regression: score = σ(b + Σ wᵢ·zᵢ) with the
// standardised input zᵢ = (xᵢ − meanᵢ)/stdᵢ, clipped to ±Clip when Clip > 0.
type Linear struct {
	Mean      []float64 `json:"mean"`
	Std       []float64 `json:"std"`
	Weights   []float64 `json:"weights"`
	Intercept float64   `json:"intercept"`
	Clip      float64   `json:"clip,omitempty"`
}

// Ensemble is a sum of regression trees: score = σ(Base + Σ leaf values).
type Ensemble struct {
	Base  float64 `json:"base"`
	Trees []Tree  `json:"trees"`
}

// Tree is a binary tree in flat arrays. Node i is a leaf when Feature[i] is
// −1, with value Value[i]; otherwise an input x goes to Left[i] when
// x[Feature[i]] < Threshold[i] and to Right[i] otherwise. Node 0 is the root.
type Tree struct {
	Feature   []int32   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int32   `json:"left"`
	Right     []int32   `json:"right"`
	Value     []float64 `json:"value"`
}

// Training records what a model was trained on and how well it did.
type Training struct {
	Command    string             `json:"command,omitempty"`
	Data       []string           `json:"data,omitempty"`
	Flows      map[string]int     `json:"flows,omitempty"` // by class
	Metrics    *Metrics           `json:"metrics,omitempty"`
	Importance map[string]float64 `json:"importance,omitempty"`
}

// Errors a caller may branch on.
var (
	ErrFormat  = errors.New("not a flowmeter model")
	ErrCorrupt = errors.New("corrupt model")
)

// SchemaError is returned by Bind when the model was trained on another
// feature schema.
type SchemaError struct {
	Want, Got string // schema hashes: the model's and the data's
	Detail    string
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("model was trained on feature schema %s, the data has %s%s", e.Want, e.Got, e.Detail)
}

// Load reads and checks a model file. It does not bind it to a schema.
func Load(r io.Reader) (*Model, error) {
	var m Model
	dec := json.NewDecoder(r)
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: truncated JSON", ErrCorrupt)
		}
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%w (format %q)", ErrFormat, m.Format)
	}
	if m.Version != Version {
		return nil, fmt.Errorf("%w: model file version %d, this flowmeter reads version %d", ErrFormat, m.Version, Version)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return &m, nil
}

// Save writes the model as indented JSON.
func (m *Model) Save(w io.Writer) error {
	m.Format, m.Version = Format, Version
	if err := m.check(); err != nil {
		return fmt.Errorf("refusing to save an inconsistent model: %w", err)
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// check validates the model's internal consistency.
func (m *Model) check() error {
	if len(m.Schema) == 0 || len(m.Inputs) == 0 {
		return errors.New("no schema or no inputs")
	}
	if feature.HashNames(m.Schema) != m.SchemaHash {
		return errors.New("schema hash does not match the schema's names")
	}
	pos := map[string]bool{}
	for _, n := range m.Schema {
		pos[n] = true
	}
	for _, n := range m.Inputs {
		if !pos[n] {
			return fmt.Errorf("input %q is not in the schema", n)
		}
	}
	if !finite(m.Threshold) || m.Threshold < 0 || m.Threshold > 1 {
		return fmt.Errorf("threshold %v outside [0, 1]", m.Threshold)
	}
	n := len(m.Inputs)
	switch m.Algorithm {
	case LogReg:
		l := m.LogReg
		if l == nil || len(l.Mean) != n || len(l.Std) != n || len(l.Weights) != n {
			return fmt.Errorf("logreg: want %d means, stds and weights", n)
		}
		if !finite(l.Intercept, l.Clip) || l.Clip < 0 || !finite(l.Mean...) || !finite(l.Std...) || !finite(l.Weights...) {
			return errors.New("logreg: non-finite parameter")
		}
		for _, s := range l.Std {
			if s <= 0 {
				return errors.New("logreg: standard deviation ≤ 0")
			}
		}
	case Blend:
		if m.LogReg == nil || m.Trees == nil {
			return errors.New("blend: needs both trees and a logistic regression")
		}
		lr, tr := *m, *m
		lr.Algorithm, tr.Algorithm = LogReg, GBDT
		if err := lr.check(); err != nil {
			return err
		}
		return tr.check()
	case GBDT, XGBoost:
		if m.Trees == nil || len(m.Trees.Trees) == 0 || !finite(m.Trees.Base) {
			return errors.New("trees: none, or a non-finite base")
		}
		for i := range m.Trees.Trees {
			if err := m.Trees.Trees[i].check(n); err != nil {
				return fmt.Errorf("tree %d: %w", i, err)
			}
		}
	default:
		return fmt.Errorf("unknown algorithm %q", m.Algorithm)
	}
	return nil
}

// check verifies that every path from the root ends in a leaf, so Score
// always terminates and never indexes out of range.
func (t *Tree) check(inputs int) error {
	n := len(t.Feature)
	if n == 0 || len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.Value) != n {
		return errors.New("arrays of different lengths or empty")
	}
	for i := 0; i < n; i++ {
		f := t.Feature[i]
		if f == -1 {
			if !finite(t.Value[i]) {
				return fmt.Errorf("node %d: non-finite leaf", i)
			}
			continue
		}
		if f < 0 || int(f) >= inputs {
			return fmt.Errorf("node %d: input %d out of range", i, f)
		}
		// Children come after their parent: no cycles, and every path ends.
		if t.Left[i] <= int32(i) || t.Right[i] <= int32(i) || int(t.Left[i]) >= n || int(t.Right[i]) >= n {
			return fmt.Errorf("node %d: bad children %d, %d", i, t.Left[i], t.Right[i])
		}
		if math.IsNaN(t.Threshold[i]) {
			return fmt.Errorf("node %d: NaN threshold", i)
		}
	}
	return nil
}

// Bind ties the model to the schema of the records it will score, and fails
// with a *SchemaError unless it is the schema the model was trained on.
func (m *Model) Bind(s *feature.Schema) error {
	if s.Hash() != m.SchemaHash {
		detail := ""
		if s.EarlyN != m.Early {
			detail = fmt.Sprintf(" (the model uses --early %d, the data %d)", m.Early, s.EarlyN)
		}
		return &SchemaError{Want: m.SchemaHash, Got: s.Hash(), Detail: detail}
	}
	m.idx = make([]int, len(m.Inputs))
	for i, n := range m.Inputs {
		m.idx[i] = s.Index(n)
	}
	return nil
}

// Schema returns the feature schema the model was trained on.
func (m *Model) FeatureSchema() (*feature.Schema, error) {
	s, err := feature.NewSchema(m.Early)
	if err != nil {
		return nil, err
	}
	if err := m.Bind(s); err != nil {
		return nil, err
	}
	return s, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Score returns the probability that the flow with these feature values (a
// record's Values, in the bound schema's order) is malicious. Bind first.
func (m *Model) Score(values []float64) float64 {
	switch m.Algorithm {
	case Blend:
		return (m.scoreLinear(values) + m.scoreTrees(values)) / 2
	case LogReg:
		return m.scoreLinear(values)
	case XGBoost:
		// XGBoost compares and sums in float32; so do we, to give its scores.
		z := float32(m.Trees.Base)
		for i := range m.Trees.Trees {
			z += m.Trees.Trees[i].eval32(values, m.idx)
		}
		return sigmoid(float64(z))
	default:
		return m.scoreTrees(values)
	}
}

func (m *Model) scoreLinear(values []float64) float64 {
	l := m.LogReg
	z := l.Intercept
	for i, j := range m.idx {
		v := (values[j] - l.Mean[i]) / l.Std[i]
		if l.Clip > 0 {
			v = math.Max(-l.Clip, math.Min(l.Clip, v))
		}
		z += l.Weights[i] * v
	}
	return sigmoid(z)
}

func (m *Model) scoreTrees(values []float64) float64 {
	z := m.Trees.Base
	for i := range m.Trees.Trees {
		z += m.Trees.Trees[i].eval(values, m.idx)
	}
	return sigmoid(z)
}

func (t *Tree) eval32(values []float64, idx []int) float32 {
	i := int32(0)
	for t.Feature[i] >= 0 {
		if float32(values[idx[t.Feature[i]]]) < float32(t.Threshold[i]) {
			i = t.Left[i]
		} else {
			i = t.Right[i]
		}
	}
	return float32(t.Value[i])
}

func (t *Tree) eval(values []float64, idx []int) float64 {
	i := int32(0)
	for t.Feature[i] >= 0 {
		if values[idx[t.Feature[i]]] < t.Threshold[i] {
			i = t.Left[i]
		} else {
			i = t.Right[i]
		}
	}
	return t.Value[i]
}

// Verdict names.
const (
	VerdictMalicious = "malicious"
	VerdictBenign    = "benign"
)

// Verdict returns the verdict for a score at threshold t.
func Verdict(score, t float64) string {
	if score >= t {
		return VerdictMalicious
	}
	return VerdictBenign
}
