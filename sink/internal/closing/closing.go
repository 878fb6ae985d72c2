// Package closing holds the end of every file sink: finish the format,
// close the file once, and keep the first error (errors are sticky).
package closing

import "io"

// Close calls finish unless *err is already set, then closes *c once (and
// forgets it), and returns the first error, which it keeps in *err.
func Close(finish func() error, c *io.Closer, err *error) error {
	if *err == nil {
		*err = finish()
	}
	if *c != nil {
		if e := (*c).Close(); e != nil && *err == nil {
			*err = e
		}
		*c = nil
	}
	return *err
}
