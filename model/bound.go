package model

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/flowmeter/flowmeter/feature"
)

// Bound is a model tied to the schema of the records it scores. Binding
// leaves the Model untouched, so one loaded model may be bound to several
// schemas. A Bound is safe for concurrent use.
type Bound struct {
	Model *Model
	alg   Algorithm
	idx   []int // position of each input in a record's Values
}

// Bind ties the model to the schema of the records it will score. A model
// that records its inputs' meanings binds to any schema that holds every
// input with the same meaning, wherever it stands, so a column added to
// flowmeter leaves existing models working; otherwise Bind fails with an
// *InputError naming the inputs missing or changed. A model without them
// (an older file) binds only to the very schema it was trained on, or
// fails with a *SchemaError.
func (m *Model) Bind(s *feature.Schema) (*Bound, error) {
	if len(m.InputMeanings) == 0 && s.Hash() != m.SchemaHash {
		detail := ""
		if s.EarlyN != m.Early {
			detail = fmt.Sprintf(" (the model uses --early %d, the data %d)", m.Early, s.EarlyN)
		}
		return nil, &SchemaError{Want: m.SchemaHash, Got: s.Hash(), Detail: detail}
	}
	alg, err := m.algorithm()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	b := &Bound{Model: m, alg: alg, idx: make([]int, len(m.Inputs))}
	var ie InputError
	for i, n := range m.Inputs {
		j := s.Index(n)
		switch {
		case j < 0:
			ie.Missing = append(ie.Missing, n)
		case len(m.InputMeanings) > 0 && s.Meaning(j) != m.InputMeanings[i]:
			ie.Changed = append(ie.Changed, n)
		}
		b.idx[i] = j
	}
	if len(ie.Missing)+len(ie.Changed) > 0 {
		ie.Early, ie.DataEarly = m.Early, s.EarlyN
		return nil, &ie
	}
	if bi, ok := b.alg.(binder); ok {
		b.alg = bi.bindTo(b.idx)
	}
	return b, nil
}

// InputError is returned by Bind when the data lacks inputs the model
// reads, or has them with another meaning than in the model's training
// data.
type InputError struct {
	Missing, Changed []string
	Early, DataEarly int // the model's early-flow window and the data's
}

func (e *InputError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "inputs missing from the data: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Changed) > 0 {
		parts = append(parts, "inputs whose meaning changed since the model was trained: "+strings.Join(e.Changed, ", "))
	}
	msg := "the model cannot read this data: " + strings.Join(parts, "; ")
	if e.Early != e.DataEarly && len(e.Missing) > 0 {
		msg += fmt.Sprintf(" (the model uses --early %d, the data %d)", e.Early, e.DataEarly)
	}
	return msg
}

// Score returns the probability that the flow with these feature values (a
// record's Values, in the bound schema's order) is malicious.
func (b *Bound) Score(values []float64) float64 { return b.alg.Score(values, b.idx) }

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

// Classifier is what classify and live apply to every flow record: a bound
// model, the threshold of its verdicts and the early-flow window the
// records must be metered with. It counts its verdicts; it is safe for
// concurrent use.
type Classifier struct {
	Model     *Bound
	Threshold float64
	Early     int // the model's early-flow window (feature.NewSchema)

	malicious, benign atomic.Int64
	cache             *scoreCache // nil: every record scored
}

// NewClassifier binds m to the schema of its own early-flow window and
// flags at threshold, or at the model's own threshold when threshold < 0.
// It returns the classifier and that schema.
func NewClassifier(m *Model, threshold float64) (*Classifier, *feature.Schema, error) {
	s, err := feature.NewSchema(m.Early)
	if err != nil {
		return nil, nil, err
	}
	b, err := m.Bind(s)
	if err != nil {
		return nil, nil, err
	}
	if threshold < 0 {
		threshold = m.Threshold
	}
	return &Classifier{Model: b, Threshold: threshold, Early: m.Early, cache: newScoreCache(b)}, s, nil
}

// Classify scores r and gives its verdict.
func (c *Classifier) Classify(r *feature.Record) {
	if c.cache != nil {
		r.Score = c.cache.score(r.Values)
	} else {
		r.Score = c.Model.Score(r.Values)
	}
	r.Verdict = Verdict(r.Score, c.Threshold)
	if r.Verdict == VerdictMalicious {
		c.malicious.Add(1)
	} else {
		c.benign.Add(1)
	}
}

// Counts returns the verdicts given so far, by verdict name.
func (c *Classifier) Counts() map[string]int64 {
	return map[string]int64{VerdictMalicious: c.malicious.Load(), VerdictBenign: c.benign.Load()}
}

// Summary is what the commands print after a run: the verdicts, and what
// the model promised at this threshold when it was trained.
func (c *Classifier) Summary() string {
	s := fmt.Sprintf("verdicts (threshold %.4g): %d malicious, %d benign", c.Threshold, c.malicious.Load(), c.benign.Load())
	return s + "\n  " + c.Promise()
}

// Promise says what the model's out-of-fold evaluation measured at the
// classifier's threshold: the share of benign flows it flags and of
// malicious flows it catches, each flow scored by a fold model that was not
// trained on its capture (nor, with --group source, on its source).
func (c *Classifier) Promise() string {
	m := c.Model.Model
	if m.Training == nil || m.Training.Metrics == nil {
		return "the model records no out-of-fold evaluation: no promise of its false-positive rate"
	}
	mm := m.Training.Metrics
	if mm.Threshold != c.Threshold {
		return fmt.Sprintf("the model was evaluated at its threshold %.4g, not at %.4g: no promise at this one", mm.Threshold, c.Threshold)
	}
	return fmt.Sprintf("the model promises (cross-validation: %d flows, each scored by a model not trained on its capture): %.2f %% of benign flows flagged, %.1f %% of malicious flows caught; traffic unlike its training data may differ",
		mm.TP+mm.FP+mm.TN+mm.FN, 100*mm.FPR, 100*mm.Recall)
}
