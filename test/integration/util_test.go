package integration

import (
	"errors"
	"io"
	"strings"

	"github.com/dfcache/dfcache/client"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func asErrorResponse(err error, target **client.ErrorResponse) bool { return errors.As(err, target) }
