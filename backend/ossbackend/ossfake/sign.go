package ossfake

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// Options configure an OSS fake started with New.
type Options struct {
	Credentials
	// Region is the region that signature v4 scopes must name.
	Region string
	// Domain enables virtual-hosted style for hosts under it; see Config.
	Domain string
}

// New starts an OSS fake that accepts requests signed with v1 or v4 by
// opts.Credentials.
func New(t testing.TB, opts Options) *Server {
	auth := &ossAuth{creds: opts.Credentials, region: opts.Region}
	return NewServer(t, auth, Config{Domain: opts.Domain, DefaultMaxKeys: 100, MinPartSize: 100 << 10, Vendor: "oss"})
}

// maxClockSkew is how far a request's date may be from the server clock.
const maxClockSkew = 15 * time.Minute

// ossAuth checks OSS signatures as the OSS API reference describes them:
// v1 is "OSS AK:base64(hmac-sha1(secret, StringToSign))" and v4 is
// "OSS4-HMAC-SHA256 Credential=AK/DATE/REGION/oss/aliyun_v4_request,...".
type ossAuth struct {
	creds  Credentials
	region string
}

// Schemes of OSS signatures, as counted by Server.Count.
const (
	SchemeV1 = "OSS"
	SchemeV4 = "OSS4-HMAC-SHA256"
)

func (a *ossAuth) Authenticate(r *http.Request, res Resource) (Signed, *Error) {
	if got := r.Header.Get("x-oss-security-token"); got != a.creds.SecurityToken {
		return Signed{}, &Error{Status: 403, Code: "InvalidAccessKeyId", Message: "The security token is missing or does not match the access key."}
	}
	authz := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(authz, SchemeV4+" "):
		return Signed{Prefix: "x-oss-", Scheme: SchemeV4}, a.checkV4(r, res, strings.TrimPrefix(authz, SchemeV4+" "))
	case strings.HasPrefix(authz, SchemeV1+" "):
		return Signed{Prefix: "x-oss-", Scheme: SchemeV1}, a.checkV1(r, res, strings.TrimPrefix(authz, SchemeV1+" "))
	}
	return Signed{}, &Error{Status: 403, Code: "AccessDenied", Message: "Anonymous access is forbidden: the request has no OSS Authorization header."}
}

func errAccessKey(ak string) *Error {
	return &Error{Status: 403, Code: "InvalidAccessKeyId", Message: "The OSS access key id you provided does not exist: " + ak}
}

func errSignature(stringToSign string) *Error {
	return &Error{Status: 403, Code: "SignatureDoesNotMatch", StringToSign: stringToSign,
		Message: "The request signature we calculated does not match the signature you provided."}
}

func checkSkew(t time.Time, err error) *Error {
	if err != nil {
		return &Error{Status: 403, Code: "AccessDenied", Message: "The request date is missing or invalid: " + err.Error()}
	}
	if d := time.Since(t); d > maxClockSkew || d < -maxClockSkew {
		return &Error{Status: 403, Code: "RequestTimeTooSkewed", Message: "The difference between the request time and the server time is too large."}
	}
	return nil
}

// checkV1 verifies "AK:SIGNATURE" over VERB, Content-MD5, Content-Type,
// Date, the x-oss- headers and the canonical resource.
func (a *ossAuth) checkV1(r *http.Request, res Resource, credential string) *Error {
	ak, signature, _ := strings.Cut(credential, ":")
	if ak != a.creds.AccessKey {
		return errAccessKey(ak)
	}
	// The signed date is x-oss-date when the request has one, else Date.
	date := r.Header.Get("x-oss-date")
	if date == "" {
		date = r.Header.Get("Date")
	}
	if e := checkSkew(http.ParseTime(date)); e != nil {
		return e
	}
	stringToSign := r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" +
		date + "\n" + CanonicalHeaders(r.Header, "x-oss-") + v1Resource(res, r.URL.Query())
	mac := hmac.New(sha1.New, []byte(a.creds.SecretKey))
	mac.Write([]byte(stringToSign))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return errSignature(stringToSign)
	}
	return nil
}

// CanonicalHeaders returns "name:value\n" for each header starting with
// prefix, with lower-case names in byte order and values trimmed and joined
// by commas.
func CanonicalHeaders(h http.Header, prefix string) string {
	var lines []string
	for name, values := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, prefix) {
			lines = append(lines, lower+":"+joinTrimmed(values)+"\n")
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

func joinTrimmed(values []string) string {
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = strings.TrimSpace(v)
	}
	return strings.Join(trimmed, ",")
}

// _v1SubResources are the query parameters that v1 signs; others, such as
// prefix and max-keys, are left out.
var _v1SubResources = map[string]bool{
	"acl": true, "uploads": true, "location": true, "cors": true, "logging": true, "website": true,
	"referer": true, "lifecycle": true, "delete": true, "append": true, "tagging": true, "objectMeta": true,
	"uploadId": true, "partNumber": true, "security-token": true, "position": true, "img": true,
	"style": true, "styleName": true, "replication": true, "replicationProgress": true,
	"replicationLocation": true, "cname": true, "bucketInfo": true, "comp": true, "qos": true,
	"live": true, "status": true, "vod": true, "startTime": true, "endTime": true, "symlink": true,
	"x-oss-process": true, "response-content-type": true, "response-content-language": true,
	"response-expires": true, "response-cache-control": true, "response-content-disposition": true,
	"response-content-encoding": true, "restore": true, "callback": true, "callback-var": true,
	"versions": true, "versioning": true, "versionId": true, "sequential": true, "stat": true,
}

// v1Resource is "/BUCKET/KEY" with the decoded key, followed by the signed
// sub-resources in byte order.
func v1Resource(res Resource, query url.Values) string {
	resource := "/"
	if res.Bucket != "" {
		resource += res.Bucket + "/" + res.Key
	}
	var subs []string
	for name, values := range query {
		if !_v1SubResources[name] {
			continue
		}
		if len(values) == 0 || values[0] == "" {
			subs = append(subs, name)
		} else {
			subs = append(subs, name+"="+values[0])
		}
	}
	if len(subs) == 0 {
		return resource
	}
	sort.Strings(subs)
	return resource + "?" + strings.Join(subs, "&")
}

// v4Auth is the parsed Authorization header of a v4 request.
type v4Auth struct {
	accessKey, date, region, service, terminal string
	additional                                 []string
	signature                                  string
}

func parseV4(value string) (v4Auth, bool) {
	var auth v4Auth
	for _, field := range strings.Split(value, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch name {
		case "Credential":
			parts := strings.Split(val, "/")
			if len(parts) != 5 {
				return auth, false
			}
			auth.accessKey, auth.date, auth.region, auth.service, auth.terminal = parts[0], parts[1], parts[2], parts[3], parts[4]
		case "AdditionalHeaders":
			if val != "" {
				auth.additional = strings.Split(val, ";")
			}
		case "Signature":
			auth.signature = val
		}
	}
	return auth, auth.accessKey != "" && auth.signature != ""
}

// checkV4 verifies the v4 signature: an HMAC-SHA256 chain keyed by
// "aliyun_v4"+secret over date, region, "oss" and "aliyun_v4_request" signs
// a string that hashes the canonical request.
func (a *ossAuth) checkV4(r *http.Request, res Resource, value string) *Error {
	auth, ok := parseV4(value)
	if !ok {
		return &Error{Status: 400, Code: "InvalidArgument", Message: "malformed OSS4-HMAC-SHA256 Authorization header"}
	}
	if auth.accessKey != a.creds.AccessKey {
		return errAccessKey(auth.accessKey)
	}
	timestamp := r.Header.Get("x-oss-date")
	if e := checkSkew(time.Parse("20060102T150405Z", timestamp)); e != nil {
		return e
	}
	if auth.region != a.region || auth.service != "oss" || auth.terminal != "aliyun_v4_request" || !strings.HasPrefix(timestamp, auth.date) {
		return &Error{Status: 400, Code: "InvalidArgument", Message: "credential scope " + auth.date + "/" + auth.region + "/" + auth.service +
			"/" + auth.terminal + " must name the request date, region " + a.region + ", oss and aliyun_v4_request"}
	}
	if r.Header.Get("x-oss-content-sha256") != "UNSIGNED-PAYLOAD" {
		return &Error{Status: 400, Code: "InvalidArgument", Message: "x-oss-content-sha256 must be UNSIGNED-PAYLOAD"}
	}
	canonical := v4CanonicalRequest(r, res, auth.additional)
	digest := sha256.Sum256([]byte(canonical))
	scope := auth.date + "/" + auth.region + "/oss/aliyun_v4_request"
	stringToSign := "OSS4-HMAC-SHA256\n" + timestamp + "\n" + scope + "\n" + hex.EncodeToString(digest[:])
	key := []byte("aliyun_v4" + a.creds.SecretKey)
	for _, part := range []string{auth.date, auth.region, "oss", "aliyun_v4_request"} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if !hmac.Equal([]byte(want), []byte(auth.signature)) {
		return errSignature(stringToSign)
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// v4CanonicalRequest joins the method, the encoded "/BUCKET/KEY", the
// canonical query, the canonical headers, the additional header names and
// the payload hash with newlines.
func v4CanonicalRequest(r *http.Request, res Resource, additional []string) string {
	uri := "/"
	if res.Bucket != "" {
		uri += res.Bucket + "/" + URIEncode(res.Key, false)
	}
	return strings.Join([]string{
		r.Method, uri, canonicalQuery(r.URL.Query()), v4Headers(r, additional),
		strings.Join(additional, ";"), r.Header.Get("x-oss-content-sha256"),
	}, "\n")
}

// canonicalQuery encodes each parameter name and value, sorts them, and
// joins "name=value" (or "name" when the value is empty) with '&'.
func canonicalQuery(query url.Values) string {
	var pairs []string
	for name, values := range query {
		for _, v := range values {
			pair := URIEncode(name, true)
			if v != "" {
				pair += "=" + URIEncode(v, true)
			}
			pairs = append(pairs, pair)
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// v4Headers lists content-type, content-md5, the x-oss- headers and the
// additional headers as "name:value\n" in byte order.
func v4Headers(r *http.Request, additional []string) string {
	extra := map[string]bool{}
	for _, name := range additional {
		extra[name] = true
	}
	var lines []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "content-type" || lower == "content-md5" || strings.HasPrefix(lower, "x-oss-") || extra[lower] {
			lines = append(lines, lower+":"+joinTrimmed(values)+"\n")
		}
	}
	if extra["host"] {
		lines = append(lines, "host:"+r.Host+"\n")
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// URIEncode percent-encodes every byte except the RFC 3986 unreserved
// characters, and '/' unless encodeSlash is set.
func URIEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		unreserved := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
		if unreserved || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
