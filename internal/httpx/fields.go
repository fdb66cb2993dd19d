package httpx

// Fields reads several parameters in a row and keeps the first error, so a
// handler checks once after reading them all.
type Fields struct {
	P   *Params
	Err error
}

// Str is Params.String.
func (f *Fields) Str(key string) string {
	if f.Err != nil {
		return ""
	}
	s, err := f.P.String(key)
	f.Err = err
	return s
}

// OptStr is Params.OptString.
func (f *Fields) OptStr(key string) *string {
	if f.Err != nil {
		return nil
	}
	s, err := f.P.OptString(key)
	f.Err = err
	return s
}

// List is Params.Strings.
func (f *Fields) List(key string) []string {
	if f.Err != nil {
		return nil
	}
	l, err := f.P.Strings(key)
	f.Err = err
	return l
}

// Int is Params.Int.
func (f *Fields) Int(key string) *int {
	if f.Err != nil {
		return nil
	}
	i, err := f.P.Int(key)
	f.Err = err
	return i
}
