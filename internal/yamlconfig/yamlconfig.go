// Package yamlconfig decodes the YAML configuration files of the
// commands strictly, with errors that name the dotted key path.
package yamlconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// DecodeStrict decodes data into out, rejecting unknown keys. yaml.v3
// reports a bad value or an unknown key only by line, so each message gets
// the dotted path of the key on that line, such as objectStorage.partSize.
func DecodeStrict(data []byte, out any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return err
	}
	if root.Kind == 0 {
		return nil // empty document
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	err := dec.Decode(out)
	if err == nil {
		return nil
	}
	keys := map[int]string{}
	collectKeys(&root, "", keys)
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		// Errors of custom unmarshalers, such as a bad size, also start
		// with "line N: " when they follow that convention.
		return errors.New(nameKey(err.Error(), keys))
	}
	msgs := make([]string, len(typeErr.Errors))
	for i, msg := range typeErr.Errors {
		msgs[i] = nameKey(msg, keys)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// collectKeys maps the line of every mapping key under n to its dotted path.
func collectKeys(n *yaml.Node, prefix string, keys map[int]string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			collectKeys(c, prefix, keys)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			path := n.Content[i].Value
			if prefix != "" {
				path = prefix + "." + path
			}
			// Several keys on one flow-style line: the last one wins, and
			// yaml.v3's own message still quotes the value or field.
			keys[n.Content[i].Line] = path
			collectKeys(n.Content[i+1], path, keys)
		}
	}
}

var _linePrefix = regexp.MustCompile(`^line (\d+): `)

func nameKey(msg string, keys map[int]string) string {
	m := _linePrefix.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	line, _ := strconv.Atoi(m[1])
	key, ok := keys[line]
	if !ok {
		return msg
	}
	msg = fmt.Sprintf("%s (line %d): %s", key, line, msg[len(m[0]):])
	if strings.HasSuffix(msg, "into time.Duration") {
		msg += "; write a duration with a unit, such as 30s"
	}
	return msg
}
