package orgfile

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Errors name the line and the YAML keys a person wrote, never Go types:
// the YAML library reports a syntax error at the start of the enclosing
// block and a type error in terms of the struct it decodes into.

// index maps the document's key paths (corps[0].users[2].mobile) to lines,
// and lines back to the deepest path and the shallowest key on them.
type index struct {
	line map[string]int
	path map[int]string // deepest path starting on the line
	key  map[int]string // shallowest key on the line: what a type error is about
}

func newIndex(root *yaml.Node) index {
	ix := index{line: map[string]int{}, path: map[int]string{}, key: map[int]string{}}
	ix.walk(root, "")
	return ix
}

func (ix index) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			ix.walk(c, path)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			ix.line[p] = c.Line
			ix.path[c.Line] = p
			ix.walk(c, p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			ix.line[p] = k.Line
			ix.path[k.Line] = p
			if _, ok := ix.key[k.Line]; !ok {
				ix.key[k.Line] = p
			}
			ix.walk(v, p)
		}
	}
}

// at prefixes a rule's error ("corps[0].users[1]: userid is required") with
// the line its path starts on.
func (ix index) at(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	path, _, _ := strings.Cut(msg, ": ")
	for p := path; p != ""; p = parent(p) {
		if line, ok := ix.line[p]; ok {
			return fmt.Errorf("line %d: %s", line, msg)
		}
	}
	return err
}

func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

var yamlLine = regexp.MustCompile(`^yaml: line \d+: `)

// syntaxError finds the line that breaks the document: the shortest run of
// leading lines that no longer parses ends on it.
func syntaxError(b []byte, err error) error {
	lines := bytes.SplitAfter(b, []byte("\n"))
	bad := sortSearch(len(lines), func(k int) bool {
		var n yaml.Node
		return yaml.Unmarshal(bytes.Join(lines[:k], nil), &n) != nil
	})
	msg := yamlLine.ReplaceAllString(err.Error(), "")
	msg = strings.TrimPrefix(msg, "yaml: ")
	if bad > 0 && bad <= len(lines) {
		return fmt.Errorf("line %d: %s (check this line's indentation and the lines just above)", bad, msg)
	}
	return errors.New(msg)
}

// sortSearch is sort.Search over 1..n: the smallest k with f(k) true.
func sortSearch(n int, f func(int) bool) int {
	lo, hi := 1, n+1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

var (
	typeErr    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	unknownKey = regexp.MustCompile(`^line (\d+): field (\S+) not found in type orgfile\.(\w+)$`)
)

// decodeError rewrites the YAML library's type errors in the file's terms.
func (ix index) decodeError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		out = append(out, ix.rewrite(e))
	}
	return errors.New(strings.Join(out, "\n"))
}

func (ix index) rewrite(e string) string {
	if m := unknownKey.FindStringSubmatch(e); m != nil {
		line, _ := strconv.Atoi(m[1])
		where := parent(ix.path[line])
		if where == "" {
			where = "the top level"
		}
		return fmt.Sprintf("line %d: unknown key %s in %s (known keys: %s)", line, m[2], where, strings.Join(knownKeys(m[3]), ", "))
	}
	if m := typeErr.FindStringSubmatch(e); m != nil {
		line, _ := strconv.Atoi(m[1])
		key := ix.key[line]
		if key == "" {
			key = "the document"
		}
		got := "a " + yamlKind(m[2])
		if m[3] != "" {
			got = strconv.Quote(m[3])
		}
		return fmt.Sprintf("line %d: %s must be %s, not %s", line, key, want(m[4]), got)
	}
	return e
}

func yamlKind(tag string) string {
	switch tag {
	case "map":
		return "mapping"
	case "seq":
		return "list"
	case "str":
		return "text"
	case "int", "float":
		return "number"
	}
	return tag
}

func want(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "text"
	case strings.HasPrefix(goType, "orgfile."), strings.HasPrefix(goType, "map["):
		return "a mapping of keys"
	}
	return "something else"
}

// knownKeys lists the YAML keys of one of the file's sections.
func knownKeys(typeName string) []string {
	var keys []string
	seen := map[reflect.Type]bool{}
	var find func(t reflect.Type)
	find = func(t reflect.Type) {
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		if t.Name() == typeName && keys == nil {
			for i := range t.NumField() {
				if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
					keys = append(keys, tag)
				}
			}
			slices.Sort(keys)
		}
		for i := range t.NumField() {
			find(t.Field(i).Type)
		}
	}
	find(reflect.TypeFor[File]())
	return keys
}
