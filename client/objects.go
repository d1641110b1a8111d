package client

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"

	"github.com/dfcache/dfcache/api"
)

// StatObject returns the metadata of bucket/key from a HEAD request. A
// missing object gives an error for which IsNotFound is true.
func (c *Client) StatObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	if err := validateObject(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	rt := objectRoute(bucket, key)
	req, err := c.newRequest(ctx, http.MethodHead, rt, nil, nil)
	if err != nil {
		return ObjectInfo{}, err
	}
	resp, err := c.do(req, rt)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := drainAndClose(resp.Body); err != nil {
		return ObjectInfo{}, err
	}
	return parseObjectInfo(bucket, key, resp)
}

// RemoveObject deletes bucket/key from the peer's cache and the backend.
func (c *Client) RemoveObject(ctx context.Context, bucket, key string) error {
	if err := validateObject(bucket, key); err != nil {
		return err
	}
	rt := objectRoute(bucket, key)
	req, err := c.newRequest(ctx, http.MethodDelete, rt, nil, nil)
	if err != nil {
		return err
	}
	return c.send(req, rt)
}

// CopyObject copies bucket/srcKey to bucket/dstKey on the peer's side; no
// object data passes through the client.
func (c *Client) CopyObject(ctx context.Context, bucket, srcKey, dstKey string) error {
	if err := validateObject(bucket, srcKey); err != nil {
		return fmt.Errorf("copy source: %w", err)
	}
	if err := api.ValidateKey(dstKey); err != nil {
		return fmt.Errorf("copy target: %w", err)
	}
	body, contentType, err := copyForm(srcKey)
	if err != nil {
		return err
	}
	rt := objectRoute(bucket, dstKey)
	req, err := c.newRequest(ctx, http.MethodPut, rt, nil, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(api.HeaderOperation, api.CopyOperation)
	return c.send(req, rt)
}

// copyForm returns the body of a copy request, a multipart/form-data form
// with the source key, and its content type.
func copyForm(srcKey string) (*bytes.Buffer, string, error) {
	buf := new(bytes.Buffer)
	form := multipart.NewWriter(buf)
	if err := form.WriteField(api.FieldSourceObjectKey, srcKey); err != nil {
		return nil, "", fmt.Errorf("write form field %s: %w", api.FieldSourceObjectKey, err)
	}
	if err := form.Close(); err != nil {
		return nil, "", fmt.Errorf("close form: %w", err)
	}
	return buf, form.FormDataContentType(), nil
}

// CreateBucket creates bucket in the peer's backend.
func (c *Client) CreateBucket(ctx context.Context, bucket string) error {
	if err := api.ValidateBucket(bucket); err != nil {
		return err
	}
	rt := bucketRoute(bucket)
	req, err := c.newRequest(ctx, http.MethodPost, rt, nil, nil)
	if err != nil {
		return err
	}
	return c.send(req, rt)
}

func validateObject(bucket, key string) error {
	if err := api.ValidateBucket(bucket); err != nil {
		return err
	}
	return api.ValidateKey(key)
}
