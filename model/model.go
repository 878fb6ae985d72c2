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
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

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
	Format     string   `json:"format"`
	Version    int      `json:"version"`
	Algorithm  string   `json:"algorithm"`
	Early      int      `json:"early"`       // early-flow window of the schema
	SchemaHash string   `json:"schema_hash"` // feature.Schema.Hash of the training data
	Schema     []string `json:"schema"`      // its feature names, in order
	Inputs     []string `json:"inputs"`      // the features the model reads
	// InputMeanings are the inputs' meanings (feature.Schema.Meaning) in
	// the training data: the model binds to any schema that has every
	// input with the same meaning. A file without them binds only to the
	// very schema it was trained on.
	InputMeanings []string  `json:"input_meanings,omitempty"`
	Threshold     float64   `json:"threshold"` // score ≥ threshold → malicious
	LogReg        *Linear   `json:"logreg,omitempty"`
	Trees         *Ensemble `json:"trees,omitempty"`
	Params        Params    `json:"params,omitempty"`
	Training      *Training `json:"training,omitempty"`
	// ContentHash is a SHA-256 over the file as Save wrote it (with this
	// field empty): Load refuses a file whose content changed since.
	ContentHash string `json:"content_hash,omitempty"`
}

// Params are the training parameters, for the record.
type Params map[string]any

// Linear is a logistic regression: score = σ(b + Σ wᵢ·zᵢ) with the
// standardised input zᵢ = (xᵢ − meanᵢ)/stdᵢ, clipped to ±Clip when Clip > 0.
// With Log, xᵢ is first replaced by sign(xᵢ)·ln(1 + |xᵢ|), so that counts,
// sizes and times spread over orders of magnitude enter on one scale and a
// value far outside the training range cannot outweigh every other input.
type Linear struct {
	Mean      []float64 `json:"mean"`
	Std       []float64 `json:"std"`
	Weights   []float64 `json:"weights"`
	Intercept float64   `json:"intercept"`
	Clip      float64   `json:"clip,omitempty"`
	Log       bool      `json:"log,omitempty"`
}

// SignedLog is sign(x)·ln(1 + |x|), Linear's transform when Log is set.
// Most inputs are small counts: those come from a table of math.Log1p's
// own results, so the value is the same bit for bit, at a tenth of the cost.
func SignedLog(x float64) float64 {
	if x >= 0 && x < float64(len(log1pTable)) {
		if i := int(x); float64(i) == x {
			return log1pTable[i]
		}
	}
	return math.Copysign(math.Log1p(math.Abs(x)), x)
}

var log1pTable = func() (t [2048]float64) {
	for i := range t {
		t[i] = math.Log1p(float64(i))
	}
	return t
}()

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
	// ErrEdited: the file's content is not what flowmeter saved (its
	// content_hash does not match): edited by hand, or damaged.
	ErrEdited = errors.New("model file was changed after it was saved (content_hash does not match)")
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

// Load reads and checks a model file: its format and version, that
// threshold is there and a probability, that its parts are consistent, and
// that its content is what Save wrote (content_hash). It does not bind it
// to a schema.
func Load(r io.Reader) (*Model, error) {
	m, err := load(r)
	if err != nil {
		return nil, err
	}
	if m.ContentHash != "" && m.ContentHash != m.hash() {
		return nil, ErrEdited
	}
	return m, nil
}

// LoadEdited is Load without the content_hash check, to use a model file
// edited knowingly; every other check still applies.
func LoadEdited(r io.Reader) (*Model, error) { return load(r) }

func load(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		var se *json.SyntaxError
		if len(bytes.TrimSpace(b)) == 0 || errors.As(err, &se) && strings.HasPrefix(se.Error(), "unexpected end of JSON") {
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
	var probe struct {
		Threshold *float64 `json:"threshold"`
	}
	if json.Unmarshal(b, &probe) == nil && probe.Threshold == nil {
		return nil, fmt.Errorf("%w: no threshold (the score from which a flow is malicious)", ErrCorrupt)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return &m, nil
}

// hash is the content hash of the model as Save writes it.
func (m *Model) hash() string {
	c := *m
	c.ContentHash = ""
	b, err := json.MarshalIndent(&c, "", " ")
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(append(b, '\n'))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Save writes the model as indented JSON, with its content hash.
func (m *Model) Save(w io.Writer) error {
	m.Format, m.Version = Format, Version
	if err := m.check(); err != nil {
		return fmt.Errorf("refusing to save an inconsistent model: %w", err)
	}
	m.ContentHash = m.hash()
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
	if len(m.InputMeanings) > 0 && len(m.InputMeanings) != len(m.Inputs) {
		return fmt.Errorf("%d input meanings for %d inputs", len(m.InputMeanings), len(m.Inputs))
	}
	if !finite(m.Threshold) || m.Threshold <= 0 || m.Threshold >= 1 {
		return fmt.Errorf("threshold %v: it must be a score between 0 and 1 (exclusive)", m.Threshold)
	}
	_, err := m.algorithm()
	return err
}

// check verifies that every path from the root ends in a leaf, so Score
// always terminates and never indexes out of range.
func (t *Tree) check(inputs int) error {
	n := len(t.Feature)
	if n == 0 || len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.Value) != n {
		return errors.New("arrays of different lengths or empty")
	}
	parent := make([]bool, n)
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
		// A tree: no node reached twice (scoring lays every path out).
		for _, c := range [2]int32{t.Left[i], t.Right[i]} {
			if parent[c] || t.Left[i] == t.Right[i] {
				return fmt.Errorf("node %d: child %d has another parent", i, c)
			}
			parent[c] = true
		}
	}
	return nil
}
