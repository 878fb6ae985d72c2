package app

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// parseCert reads what crypto/x509 reads of the same certificates: names
// with and without a common name, UTCTime and GeneralizedTime validity
// (after 2049), self-signed and issued.
func TestParseCertLikeX509(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Lab Root CA", Organization: []string{"Lab"}},
		NotBefore: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), NotAfter: time.Date(2060, 6, 7, 8, 9, 10, 0, time.UTC), IsCA: true, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(1 << 62), Subject: pkix.Name{OrganizationalUnit: []string{"Web"}, Organization: []string{"Shop"}},
		NotBefore: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), NotAfter: time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		der             []byte
		subject, issuer string
		self            bool
	}{{caDER, "Lab Root CA", "Lab Root CA", true}, {leafDER, "Web", "Lab Root CA", false}} {
		x, err := x509.ParseCertificate(c.der)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseCert(c.der)
		if !ok || string(got.subject) != c.subject || string(got.issuer) != c.issuer || got.selfSigned != c.self ||
			got.selfSigned != bytes.Equal(x.RawIssuer, x.RawSubject) || !got.notBefore.Equal(x.NotBefore) || !got.notAfter.Equal(x.NotAfter) {
			t.Errorf("parseCert = %+v, %v; crypto/x509: %v, %v, %v … %v", got, ok, x.Subject, x.Issuer, x.NotBefore, x.NotAfter)
		}
		for n := range c.der { // every cut is refused, never a panic
			if _, ok := parseCert(c.der[:n]); ok && n < len(c.der)-100 {
				t.Fatalf("a certificate cut at %d of %d bytes read as whole", n, len(c.der))
			}
		}
	}
}
