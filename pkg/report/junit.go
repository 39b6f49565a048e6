package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// JUnit XML, in the shape Jenkins, GitLab, GitHub test reporters and
// Buildkite read: <testsuites> holding one <testsuite> per route, each with
// one <testcase> per check. Suites are written as routes finish, so a large
// run never holds its whole report.

// JUnitTestSuites is the document root.
type JUnitTestSuites struct {
	XMLName xml.Name         `xml:"testsuites"`
	Name    string           `xml:"name,attr"`
	Suites  []JUnitTestSuite `xml:"testsuite"`
}

// JUnitTestSuite is one route.
type JUnitTestSuite struct {
	XMLName    xml.Name        `xml:"testsuite"`
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []JUnitProperty `xml:"properties>property,omitempty"`
	TestCases  []JUnitTestCase `xml:"testcase"`
	SystemOut  *JUnitSystemOut `xml:"system-out,omitempty"`
}

// JUnitProperty is a name/value pair on a suite (owner, rollback, url).
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitTestCase is one check.
type JUnitTestCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	Error     *JUnitFailure `xml:"error,omitempty"`
}

// JUnitFailure is a failed (or, as <error>, an unreachable) check.
type JUnitFailure struct {
	Message  string `xml:"message,attr"`
	Type     string `xml:"type,attr"`
	Contents string `xml:",chardata"`
}

// JUnitSystemOut carries free text.
type JUnitSystemOut struct {
	Contents string `xml:",chardata"`
}

// junitWriter streams suites inside one <testsuites> element.
type junitWriter struct {
	w       io.Writer
	enc     *xml.Encoder
	name    string
	started bool
}

func newJUnitWriter(w io.Writer, name string) *junitWriter {
	enc := xml.NewEncoder(w)
	enc.Indent("  ", "  ")
	return &junitWriter{w: w, enc: enc, name: name}
}

func (j *junitWriter) start() error {
	if j.started {
		return nil
	}
	j.started = true
	_, err := io.WriteString(j.w, xml.Header+`<testsuites name="`+xmlAttr(j.name)+"\">\n")
	return err
}

func (j *junitWriter) suite(s JUnitTestSuite) error {
	if err := j.start(); err != nil {
		return err
	}
	if err := j.enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(j.w, "\n")
	return err
}

func (j *junitWriter) close() error {
	if err := j.start(); err != nil {
		return err
	}
	_, err := io.WriteString(j.w, "</testsuites>\n")
	return err
}

// xmlAttr escapes a value for a double-quoted attribute written by hand.
func xmlAttr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // strings.Builder never fails
	return b.String()
}

// junitSeconds renders milliseconds as JUnit's seconds.
func junitSeconds(ms float64) string {
	return fmt.Sprintf("%.3f", ms/1000)
}

func junitTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}
