package feature

import "math"

// Stat is a running summary of a series (Welford's algorithm): count, mean,
// variance, minimum and maximum in O(1) space, without storing the series.
type Stat struct {
	N        int64
	Mean, M2 float64
	Min, Max float64
}

// Add adds x to the series.
func (s *Stat) Add(x float64) {
	s.N++
	if s.N == 1 {
		s.Mean, s.M2, s.Min, s.Max = x, 0, x, x
		return
	}
	d := x - s.Mean
	s.Mean += d / float64(s.N)
	s.M2 += d * (x - s.Mean)
	if x < s.Min {
		s.Min = x
	}
	if x > s.Max {
		s.Max = x
	}
}

// Var is the sample variance, Σ(x−mean)²/(n−1); 0 for fewer than 2 values.
func (s *Stat) Var() float64 {
	if s.N < 2 {
		return 0
	}
	v := s.M2 / float64(s.N-1)
	if v < 0 {
		return 0
	}
	return v
}

// Std is the sample standard deviation, √Var.
func (s *Stat) Std() float64 { return math.Sqrt(s.Var()) }

// Sum is N·Mean (exact for the integer series the meter feeds it, up to
// float64 precision).
func (s *Stat) Sum() float64 { return s.Mean * float64(s.N) }

// Merge returns the summary of the two series together (Chan et al.'s
// parallel form of Welford's algorithm).
func Merge(a, b Stat) Stat {
	if a.N == 0 {
		return b
	}
	if b.N == 0 {
		return a
	}
	n := a.N + b.N
	d := b.Mean - a.Mean
	return Stat{
		N:    n,
		Mean: a.Mean + d*float64(b.N)/float64(n),
		M2:   a.M2 + b.M2 + d*d*float64(a.N)*float64(b.N)/float64(n),
		Min:  min(a.Min, b.Min),
		Max:  max(a.Max, b.Max),
	}
}
