package obsfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/dfcache/dfcache/backend/ossbackend/ossfake"
)

// SchemeAWS4 is the AWS signature v4 scheme, as counted by Server.Count.
const SchemeAWS4 = "AWS4-HMAC-SHA256"

// awsV4 is a parsed "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/
// aws4_request, SignedHeaders=a;b, Signature=HEX" header.
type awsV4 struct {
	accessKey, date, region, service, terminal string
	signedHeaders                              []string
	signature                                  string
}

func parseAWSV4(value string) (awsV4, bool) {
	var v awsV4
	for _, field := range strings.Split(value, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch name {
		case "Credential":
			parts := strings.Split(val, "/")
			if len(parts) != 5 {
				return v, false
			}
			v.accessKey, v.date, v.region, v.service, v.terminal = parts[0], parts[1], parts[2], parts[3], parts[4]
		case "SignedHeaders":
			v.signedHeaders = strings.Split(val, ";")
		case "Signature":
			v.signature = val
		}
	}
	return v, v.accessKey != "" && v.signature != "" && len(v.signedHeaders) > 0
}

// checkAWSV4 verifies an AWS signature v4 as the S3 API reference defines
// it: the key is an HMAC-SHA256 chain from "AWS4"+secret over the date, the
// region, the service and "aws4_request", and it signs a string that hashes
// the canonical request.
func (a *auth) checkAWSV4(r *http.Request, value string) *ossfake.Error {
	v, ok := parseAWSV4(value)
	if !ok {
		return &ossfake.Error{Status: 400, Code: "InvalidArgument", Message: "malformed AWS4-HMAC-SHA256 Authorization header"}
	}
	if v.accessKey != a.creds.AccessKey {
		return &ossfake.Error{Status: 403, Code: "InvalidAccessKeyId", Message: "The access key id you provided does not exist: " + v.accessKey}
	}
	timestamp, err := requestTimestamp(r)
	if skewed, ok := err.(*ossfake.Error); ok {
		return skewed
	}
	if err != nil || !strings.HasPrefix(timestamp, v.date) {
		return &ossfake.Error{Status: 403, Code: "AccessDenied", Message: "x-amz-date " + timestamp + " is missing or does not match the credential date " + v.date}
	}
	if v.region != a.region || v.service != "s3" || v.terminal != "aws4_request" {
		return &ossfake.Error{Status: 400, Code: "AuthorizationHeaderMalformed", Message: "credential scope " + v.region + "/" + v.service + "/" +
			v.terminal + " must name region " + a.region + ", s3 and aws4_request"}
	}
	canonical := strings.Join([]string{
		r.Method, rawPath(r), awsCanonicalQuery(r.URL.Query()), awsCanonicalHeaders(r, v.signedHeaders),
		strings.Join(v.signedHeaders, ";"), r.Header.Get("x-amz-content-sha256"),
	}, "\n")
	digest := sha256.Sum256([]byte(canonical))
	scope := strings.Join([]string{v.date, v.region, v.service, v.terminal}, "/")
	stringToSign := SchemeAWS4 + "\n" + timestamp + "\n" + scope + "\n" + hex.EncodeToString(digest[:])
	key := []byte("AWS4" + a.creds.SecretKey)
	for _, part := range []string{v.date, v.region, v.service, v.terminal} {
		key = hmacSHA256(key, part)
	}
	if want := hex.EncodeToString(hmacSHA256(key, stringToSign)); !hmac.Equal([]byte(want), []byte(v.signature)) {
		return &ossfake.Error{Status: 403, Code: "SignatureDoesNotMatch", StringToSign: stringToSign,
			Message: "The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

// requestTimestamp returns the request time in ISO 8601 basic format, from
// x-amz-date or, when that is absent, from Date, and checks the clock skew.
func requestTimestamp(r *http.Request) (string, error) {
	const iso8601 = "20060102T150405Z"
	if stamp := r.Header.Get("x-amz-date"); stamp != "" {
		t, err := time.Parse(iso8601, stamp)
		if err != nil {
			return "", err
		}
		if e := checkSkew(t.Format(http.TimeFormat)); e != nil {
			return "", e
		}
		return stamp, nil
	}
	if e := checkSkew(r.Header.Get("Date")); e != nil {
		return "", e
	}
	t, _ := http.ParseTime(r.Header.Get("Date"))
	return t.UTC().Format(iso8601), nil
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// rawPath returns the request path exactly as the client encoded it.
func rawPath(r *http.Request) string {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	return path
}

// awsCanonicalQuery URI-encodes every name and value, sorts the pairs and
// joins "name=value" with '&'; a parameter without a value keeps its '='.
func awsCanonicalQuery(query url.Values) string {
	var pairs []string
	for name, values := range query {
		for _, value := range values {
			pairs = append(pairs, ossfake.URIEncode(name, true)+"="+ossfake.URIEncode(value, true))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// awsCanonicalHeaders lists the signed headers as "name:value\n", in the
// order of SignedHeaders, which the client sorted.
func awsCanonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		value := strings.Join(r.Header.Values(name), ",")
		if name == "host" {
			value = r.Host
		}
		b.WriteString(name + ":" + strings.TrimSpace(value) + "\n")
	}
	return b.String()
}
