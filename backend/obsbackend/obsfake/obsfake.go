// Package obsfake is an in-process Huawei Cloud OBS endpoint for tests, on
// 127.0.0.1 only. It reuses the OSS fake's store and request handling,
// because OBS has the same S3-derived REST shape, and checks OBS request
// signatures: the native "OBS AK:SIG" with x-obs- headers, and AWS
// signature v2 ("AWS AK:SIG", which the OBS SDK sends in path style) and v4
// with x-amz- headers.
package obsfake

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dfcache/dfcache/backend/ossbackend/ossfake"
)

// Signature schemes, as counted by Server.Count.
const (
	SchemeOBS = "OBS"
	SchemeAWS = "AWS"
)

// Options configure a fake.
type Options struct {
	ossfake.Credentials
	// Region is the region that AWS v4 scopes must name.
	Region string
	// Domain enables virtual-hosted style for hosts under it.
	Domain string
}

// New starts an OBS fake that accepts requests signed by opts.Credentials.
func New(t testing.TB, opts Options) *ossfake.Server {
	return ossfake.NewServer(t, &auth{creds: opts.Credentials, region: opts.Region}, ossfake.Config{
		Domain: opts.Domain, DefaultMaxKeys: 1000, MinPartSize: 100 << 10, Vendor: "obs",
	})
}

// maxClockSkew is how far a request's date may be from the server clock.
const maxClockSkew = 15 * time.Minute

type auth struct {
	creds  ossfake.Credentials
	region string
}

// Authenticate checks AWS v4, or else "SCHEME AK:base64(hmac-sha1(secret,
// StringToSign))", where StringToSign joins the verb, Content-MD5,
// Content-Type, the date, the x-obs- (or x-amz-) headers and the canonical
// resource.
func (a *auth) Authenticate(r *http.Request, res ossfake.Resource) (ossfake.Signed, *ossfake.Error) {
	scheme, credential, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	var signed ossfake.Signed
	switch scheme {
	case SchemeOBS:
		signed = ossfake.Signed{Prefix: "x-obs-", Scheme: SchemeOBS}
	case SchemeAWS:
		signed = ossfake.Signed{Prefix: "x-amz-", Scheme: SchemeAWS}
	case SchemeAWS4:
		signed = ossfake.Signed{Prefix: "x-amz-", Scheme: SchemeAWS4}
	default:
		return signed, &ossfake.Error{Status: 403, Code: "AccessDenied", Message: "Anonymous access is forbidden: the request has no OBS or AWS Authorization header."}
	}
	if got := r.Header.Get(signed.Prefix + "security-token"); got != a.creds.SecurityToken {
		return signed, &ossfake.Error{Status: 403, Code: "InvalidAccessKeyId", Message: "The security token is missing or does not match the access key."}
	}
	if scheme == SchemeAWS4 {
		return signed, a.checkAWSV4(r, credential)
	}
	ak, signature, _ := strings.Cut(credential, ":")
	if ak != a.creds.AccessKey {
		return signed, &ossfake.Error{Status: 403, Code: "InvalidAccessKeyId", Message: "The access key id you provided does not exist: " + ak}
	}
	return signed, a.checkSignature(r, res, signed.Prefix, signature)
}

func (a *auth) checkSignature(r *http.Request, res ossfake.Resource, prefix, signature string) *ossfake.Error {
	// A prefixed date header replaces Date, which is then signed as empty.
	date, dateLine := r.Header.Get(prefix+"date"), ""
	if date == "" {
		date, dateLine = r.Header.Get("Date"), r.Header.Get("Date")
	}
	if e := checkSkew(date); e != nil {
		return e
	}
	stringToSign := r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" +
		dateLine + "\n" + ossfake.CanonicalHeaders(r.Header, prefix) + canonicalResource(r, res, prefix)
	mac := hmac.New(sha1.New, []byte(a.creds.SecretKey))
	mac.Write([]byte(stringToSign))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return &ossfake.Error{Status: 403, Code: "SignatureDoesNotMatch", StringToSign: stringToSign,
			Message: "The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

func checkSkew(date string) *ossfake.Error {
	t, err := http.ParseTime(date)
	if err != nil {
		return &ossfake.Error{Status: 403, Code: "AccessDenied", Message: "The request date is missing or invalid: " + date}
	}
	if d := time.Since(t); d > maxClockSkew || d < -maxClockSkew {
		return &ossfake.Error{Status: 403, Code: "RequestTimeTooSkewed", Message: "The difference between the request time and the server time is too large."}
	}
	return nil
}

// _subResources are the query parameters that are signed, besides those
// starting with the dialect's prefix.
var _subResources = map[string]bool{
	"acl": true, "append": true, "attname": true, "backtosource": true, "cors": true, "customdomain": true,
	"delete": true, "deletebucket": true, "encryption": true, "inventory": true, "length": true,
	"lifecycle": true, "location": true, "logging": true, "metadata": true, "modify": true, "name": true,
	"notification": true, "partnumber": true, "policy": true, "position": true, "quota": true,
	"rename": true, "replication": true, "requestpayment": true, "response-cache-control": true,
	"response-content-disposition": true, "response-content-encoding": true, "response-content-language": true,
	"response-content-type": true, "response-expires": true, "restore": true, "storageclass": true,
	"storagepolicy": true, "storageinfo": true, "tagging": true, "torrent": true, "truncate": true,
	"uploadid": true, "uploads": true, "versionid": true, "versioning": true, "versions": true, "website": true,
}

// canonicalResource is the request path as sent, with the bucket in front
// in virtual-hosted style, followed by the signed sub-resources.
func canonicalResource(r *http.Request, res ossfake.Resource, prefix string) string {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if res.VirtualHost {
		path = "/" + res.Bucket + path
	}
	var subs []string
	for name, values := range r.URL.Query() {
		lower := strings.ToLower(name)
		if !_subResources[lower] && !strings.HasPrefix(lower, prefix) {
			continue
		}
		if len(values) == 0 || values[0] == "" {
			subs = append(subs, name)
		} else {
			subs = append(subs, name+"="+values[0])
		}
	}
	if len(subs) == 0 {
		return path
	}
	sort.Strings(subs)
	return path + "?" + strings.Join(subs, "&")
}
