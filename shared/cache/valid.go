package cache

import "encoding/json"

// validJSON is json.Valid, faster for the common data: a scanner that
// accepts only plainly valid JSON (ASCII, nesting below maxPlainDepth) and
// leaves everything else, valid or not, to json.Valid.
func validJSON(b []byte) bool {
	v := plainScanner{b: b}
	if v.value(0) && v.ws() == len(b) {
		return true
	}
	return json.Valid(b)
}

// maxPlainDepth bounds plainScanner's recursion.
const maxPlainDepth = 64

// plainScanner checks JSON grammar by recursive descent; i is the next
// byte. Its methods report false for anything they do not plainly accept.
type plainScanner struct {
	b []byte
	i int
}

// ws skips white space and returns the position reached.
func (s *plainScanner) ws() int {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.i
		}
	}
	return s.i
}

func (s *plainScanner) value(depth int) bool {
	if s.ws() == len(s.b) || depth > maxPlainDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.container(depth, '}', true)
	case c == '[':
		return s.container(depth, ']', false)
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return true
		}
	}
	return false
}

// container reads an object (keyed) or an array, from its opening byte.
func (s *plainScanner) container(depth int, end byte, keyed bool) bool {
	s.i++
	if s.ws() < len(s.b) && s.b[s.i] == end {
		s.i++
		return true
	}
	for {
		if keyed {
			if s.ws() == len(s.b) || s.b[s.i] != '"' || !s.str() || s.ws() == len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
		}
		if !s.value(depth+1) || s.ws() == len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case end:
			s.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string of printable ASCII with simple escapes.
func (s *plainScanner) str() bool {
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			s.i++
			if s.i == len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			default:
				return false // \u and anything else: json.Valid decides
			}
		case c < 0x20 || c >= 0x7f:
			return false
		}
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *plainScanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

// digits skips decimal digits and returns how many.
func (s *plainScanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}
