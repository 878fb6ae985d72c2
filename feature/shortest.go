package feature

// The shortest decimal digits of a float64, found as Go's strconv finds
// them (Junekey Jeon's Dragonbox: internal/strconv/ftoadbox.go of Go 1.26,
// BSD licence, whose 64-bit path this follows step for step), so that a
// record's fractions need not go through strconv.AppendFloat's 'e' text
// and back: that round trip, not the algorithm, was most of the 10 % of a
// real-traffic run that the long fractions (means, standard deviations,
// rates) took. TestShortestDigits holds the digits to strconv's over every
// exponent.

import (
	"math"
	"math/big"
	"math/bits"
)

type u128 struct{ hi, lo uint64 }

// The powers of ten the table holds: 10^k for k in [pow10Lo, pow10Hi],
// which covers values from about 1e-40 to 1e60; others go to strconv.
const (
	pow10Lo = -64
	pow10Hi = 64
)

// pow10Mant[k-pow10Lo] is 10^k scaled into [2^127, 2^128) and truncated,
// as strconv's pow10Tab (computed here once, in integers, rather than
// copied).
var pow10Mant = func() (t [pow10Hi - pow10Lo + 1]u128) {
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
	for k := pow10Lo; k <= pow10Hi; k++ {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(k))), nil)
		d := new(big.Int)
		if k >= 0 { // 10^k shifted to 128 bits, truncated
			if n := p.BitLen(); n > 128 {
				d.Rsh(p, uint(n-128))
			} else {
				d.Lsh(p, uint(128-n))
			}
		} else { // ⌊2^s / 10^-k⌋ for s = 127 + bits(10^-k): 2^(b-1) < 10^-k < 2^b
			// (no power of ten above 1 is a power of two), so it has 128 bits
			d.Quo(new(big.Int).Lsh(big.NewInt(1), uint(127+p.BitLen())), p)
		}
		t[k-pow10Lo] = u128{new(big.Int).Rsh(d, 64).Uint64(), new(big.Int).And(d, mask).Uint64()}
	}
	return t
}()

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}

// mulLog10_2 is ⌊x·log10(2)⌋ for |x| ≤ 1600; mulLog2_10 ⌊x·log2(10)⌋ for
// |x| ≤ 500; mulLog10_2MinusLog10_4Over3 ⌊x·log10(2) − log10(4/3)⌋.
func mulLog10_2(x int) int                  { return (x * 78913) >> 18 }
func mulLog2_10(x int) int                  { return (x * 108853) >> 15 }
func mulLog10_2MinusLog10_4Over3(e int) int { return (e*631305 - 261663) >> 21 }

// dboxPow is φ̃k and β for exponent e, or ok=false outside the table.
func dboxPow(k, e int) (phi u128, beta int, ok bool) {
	if k < pow10Lo || k > pow10Hi {
		return u128{}, 0, false
	}
	phi = pow10Mant[k-pow10Lo]
	if k < 0 || k > 55 {
		phi.lo++
	}
	return phi, e + 1 + mulLog2_10(k) - 1, true
}

func umul192Upper128(x uint64, y u128) u128 {
	hi, lo := bits.Mul64(x, y.hi)
	t, _ := bits.Mul64(x, y.lo)
	lo, c := bits.Add64(lo, t, 0)
	return u128{hi + c, lo}
}

func umul192Lower128(x uint64, y u128) u128 {
	high := x * y.hi
	hl, ll := bits.Mul64(x, y.lo)
	return u128{high + hl, ll}
}

// trimZeros divides x by 10 while it is a multiple, counting how often.
func trimZeros(x uint64) (uint64, int) {
	const (
		div1e8m  = 0xc767074b22e90e21
		div1e8le = math.MaxUint64 / 100000000
		div1e4m  = 0xd288ce703afb7e91
		div1e4le = math.MaxUint64 / 10000
		div1e2m  = 0x8f5c28f5c28f5c29
		div1e2le = math.MaxUint64 / 100
		div1e1m  = 0xcccccccccccccccd
		div1e1le = math.MaxUint64 / 10
	)
	p := 0
	for d := bits.RotateLeft64(x*div1e8m, -8); d <= div1e8le; d = bits.RotateLeft64(x*div1e8m, -8) {
		x = d
		p += 8
	}
	if d := bits.RotateLeft64(x*div1e4m, -4); d <= div1e4le {
		x = d
		p += 4
	}
	if d := bits.RotateLeft64(x*div1e2m, -2); d <= div1e2le {
		x = d
		p += 2
	}
	if d := bits.RotateLeft64(x*div1e1m, -1); d <= div1e1le {
		x = d
		p++
	}
	return x, p
}

// shortestDigits returns the digits strconv writes for v (finite, > 0) in
// its shortest form, as the integer q and the decimal exponent e of
// v ≈ q·10^e; ok is false when v is out of the table's range.
func shortestDigits(v float64) (q uint64, e int, ok bool) {
	const mantBits = 52
	b := math.Float64bits(v)
	exp := int(b>>mantBits) & 0x7FF
	mant := b & (1<<mantBits - 1)
	denorm := false
	if exp == 0 {
		exp++
		denorm = true
	} else {
		mant |= 1 << mantBits
	}
	exp += -1023 - mantBits

	if mant == 1<<mantBits && !denorm { // Algorithm 5.6 (page 24)
		k0 := -mulLog10_2MinusLog10_4Over3(exp)
		phi, beta, ok := dboxPow(k0, exp)
		if !ok {
			return 0, 0, false
		}
		xi := (phi.hi - (phi.hi >> (mantBits + 2))) >> (64 - mantBits - 1 - beta)
		zi := (phi.hi + (phi.hi >> (mantBits + 1))) >> (64 - mantBits - 1 - beta)
		if exp != 2 && exp != 3 {
			xi++
		}
		q := zi / 10
		if xi <= q*10 {
			q, zeros := trimZeros(q)
			return q, -k0 + 1 + zeros, true
		}
		yru := (phi.hi>>(64-mantBits-2-beta) + 1) / 2
		if exp == -77 && yru%2 != 0 {
			yru--
		} else if yru < xi {
			yru++
		}
		return yru, -k0, true
	}

	const (
		kappa = 2
		p10k  = 100
		p10k1 = p10k * 10
	)
	// Algorithm 5.2 (page 15).
	k0 := -mulLog10_2(exp)
	phi, beta, ok := dboxPow(kappa+k0, exp)
	if !ok {
		return 0, 0, false
	}
	r128 := umul192Upper128((mant*2+1)<<beta, phi)
	zi, exact := r128.hi, r128.lo == 0
	s, r := zi/p10k1, uint32(zi%p10k1)
	delta := uint32(phi.hi >> (64 - 1 - beta))

	if r < delta {
		if r != 0 || !exact || mant%2 == 0 {
			s, zeros := trimZeros(s)
			return s, -k0 + 1 + zeros, true
		}
		s--
		r = p10k * 10
	} else if r == delta {
		par, exact := dboxParity(mant*2-1, phi, beta)
		if par || (exact && mant%2 == 0) {
			s, zeros := trimZeros(s)
			return s, -k0 + 1 + zeros, true
		}
	}
	// Algorithm 5.4 (page 18).
	d := r + p10k/2 - delta/2
	t, rho := d/p10k, d%p10k
	yru := 10*s + uint64(t)
	if rho == 0 {
		par, exact := dboxParity(mant*2, phi, beta)
		if par != ((d-p10k/2)%2 != 0) || exact && yru%2 != 0 {
			yru--
		}
	}
	return yru, -k0, true
}

// dboxParity is the parity of x^(i), y^(i) or z^(i) and whether its
// fraction is 0 (section 5.2.1).
func dboxParity(mant2 uint64, phi u128, beta int) (parity, isInt bool) {
	r := umul192Lower128(mant2, phi)
	return ((r.hi >> (64 - beta)) & 1) != 0, ((r.hi << beta) | (r.lo >> (64 - beta))) == 0
}

// putDigits writes q's decimal digits (none for 0) to end just before
// buf[i] and returns where they start: eight at a time in 32-bit
// arithmetic, as two independent halves of two pairs each.
func putDigits(buf *[24]byte, i int, q uint64) int {
	for q >= 1e8 {
		v := uint32(q % 1e8)
		q /= 1e8
		hi, lo := v/10000, v%10000
		a, b, c, d := hi/100, hi%100, lo/100, lo%100
		i -= 8
		buf[i], buf[i+1], buf[i+2], buf[i+3] = digitPairs[2*a], digitPairs[2*a+1], digitPairs[2*b], digitPairs[2*b+1]
		buf[i+4], buf[i+5], buf[i+6], buf[i+7] = digitPairs[2*c], digitPairs[2*c+1], digitPairs[2*d], digitPairs[2*d+1]
	}
	lo := uint32(q)
	for lo >= 100 {
		r := lo % 100
		lo /= 100
		i -= 2
		buf[i], buf[i+1] = digitPairs[2*r], digitPairs[2*r+1]
	}
	if lo >= 10 {
		i -= 2
		buf[i], buf[i+1] = digitPairs[2*lo], digitPairs[2*lo+1]
	} else if lo > 0 {
		i--
		buf[i] = byte('0' + lo)
	}
	return i
}
