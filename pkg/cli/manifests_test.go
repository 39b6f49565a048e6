package cli

import (
	"context"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/spf13/cobra"

	"github.com/cachectl/cachectl/internal/stacktest"
	"github.com/cachectl/cachectl/pkg/config"
	"github.com/cachectl/cachectl/pkg/iostreams"
	"github.com/cachectl/cachectl/pkg/report"
	"github.com/cachectl/cachectl/pkg/secret"
	"github.com/cachectl/cachectl/pkg/verify"
)

// manifests are the objects of one multi-document file, decoded strictly
// into the Kubernetes API types: an unknown or misspelt field fails, as
// `kubectl apply --validate=strict` would.
type manifests struct {
	configMaps  map[string]*corev1.ConfigMap
	jobs        []*batchv1.Job
	deployments []*appsv1.Deployment
	services    []*corev1.Service
}

var documentSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func decodeManifests(t *testing.T, name string) *manifests {
	t.Helper()
	root, err := stacktest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "configs", name))
	if err != nil {
		t.Fatal(err)
	}
	m := &manifests{configMaps: map[string]*corev1.ConfigMap{}}
	for i, doc := range documentSeparator.Split(string(b), -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s document %d: %v", name, i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			cm := &corev1.ConfigMap{}
			obj, m.configMaps[configMapName(doc)] = cm, cm
		case "batch/v1 Job":
			obj = &batchv1.Job{}
			m.jobs = append(m.jobs, obj.(*batchv1.Job))
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
			m.deployments = append(m.deployments, obj.(*appsv1.Deployment))
		case "v1 Service":
			obj = &corev1.Service{}
			m.services = append(m.services, obj.(*corev1.Service))
		default:
			t.Fatalf("%s document %d: %q %q is not a kind this test decodes", name, i+1, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", name, i+1, tm.Kind, err)
		}
	}
	for key, cm := range m.configMaps {
		if cm.Name != key {
			t.Fatalf("%s: ConfigMap %q read as %q", name, cm.Name, key)
		}
	}
	return m
}

// configMapName reads metadata.name loosely, to index a ConfigMap before
// its strict decoding.
func configMapName(doc string) string {
	var meta struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
		return ""
	}
	return meta.Metadata.Name
}

// podFiles maps the paths the container sees to files holding the content
// its ConfigMap volumes mount there, and returns args with each such path
// replaced by its file, so cachectl reads the config the pod would.
func podFiles(t *testing.T, m *manifests, pod corev1.PodSpec, c corev1.Container, args []string) []string {
	t.Helper()
	dir := t.TempDir()
	out := append([]string{}, args...)
	for _, mount := range c.VolumeMounts {
		var vol *corev1.Volume
		for i := range pod.Volumes {
			if pod.Volumes[i].Name == mount.Name {
				vol = &pod.Volumes[i]
			}
		}
		if vol == nil {
			t.Fatalf("container %s mounts volume %q, which the pod does not define", c.Name, mount.Name)
		}
		if vol.ConfigMap == nil {
			continue
		}
		cm, ok := m.configMaps[vol.ConfigMap.Name]
		if !ok {
			t.Fatalf("volume %q names ConfigMap %q, which the file does not define", vol.Name, vol.ConfigMap.Name)
		}
		for key, data := range cm.Data {
			file := filepath.Join(dir, key)
			if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			for i, a := range out {
				out[i] = strings.Replace(a, "="+path.Join(mount.MountPath, key), "="+file, 1)
			}
		}
	}
	return out
}

// podEnviron is the container's environment: each variable with a stand-in
// for a secret's value, and extra (what Kubernetes itself sets).
func podEnviron(c corev1.Container, extra ...string) config.Environ {
	env := config.Environ(extra)
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			v = "secret-" + e.ValueFrom.SecretKeyRef.Key + "-value"
		}
		env = append(env, e.Name+"="+v)
	}
	return env
}

// parseWithRoot runs args through cachectl's root command, with the
// command named replaced by one built with newCmd, whose runF stands in
// for the run. Global flags, their checks and the command's flags are the
// real ones.
func parseWithRoot(t *testing.T, env config.Environ, args []string, name string, newCmd func(*Factory) *cobra.Command) (int, string) {
	t.Helper()
	ios, _, _, errOut := iostreams.Test()
	f := newFactory(ios, env, &secret.Scrubber{})
	root := NewRootCmd(f)
	for _, c := range root.Commands() {
		if c.Name() == name {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newCmd(f))
	root.SetArgs(args)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(context.Background())
	return exitCode(context.Background(), err), errOut.String() + errorText(err)
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestVerifyJobManifest: the Indexed Job decodes strictly, its shell
// wrapper hands its args to cachectl, and those args parse with cachectl's
// real flags into a verify run of --shards equal to the Job's completions,
// against the ConfigMap's config and with the Secret's session.
func TestVerifyJobManifest(t *testing.T) {
	m := decodeManifests(t, "k8s-verify-indexed-job.yaml")
	if len(m.jobs) != 1 || len(m.configMaps) != 1 {
		t.Fatalf("%d Jobs and %d ConfigMaps, want one of each", len(m.jobs), len(m.configMaps))
	}
	job := m.jobs[0]
	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed (it sets JOB_COMPLETION_INDEX)", job.Spec.CompletionMode)
	}
	pod := job.Spec.Template.Spec
	c := pod.Containers[0]
	if len(c.Command) != 4 || c.Command[0] != "/bin/sh" || c.Command[1] != "-c" || !strings.HasPrefix(c.Command[2], `exec cachectl "$@" `) || c.Command[3] != "--" {
		t.Fatalf("command %q, want /bin/sh -c 'exec cachectl \"$@\" ...' -- so that args reach cachectl", c.Command)
	}
	args := podFiles(t, m, pod, c, c.Args)
	var got *VerifyOptions
	code, msg := parseWithRoot(t, podEnviron(c, "JOB_COMPLETION_INDEX=7"), args, "verify", func(f *Factory) *cobra.Command {
		return newCmdVerify(f, func(_ context.Context, o *VerifyOptions) error {
			got = o
			return planVerifyOffline(o)
		})
	})
	if code != ExitOK || got == nil {
		t.Fatalf("%q: exit %d: %s", args, code, msg)
	}
	if got.Shards != int(*job.Spec.Completions) || *job.Spec.Parallelism != *job.Spec.Completions {
		t.Errorf("--shards %d, completions %d, parallelism %d: want all equal", got.Shards, *job.Spec.Completions, *job.Spec.Parallelism)
	}
	if got.Globals.Output != "jsonl" || got.Sitemap == "" || !got.Warm {
		t.Errorf("parsed %+v, want -o jsonl, a sitemap and --warm", *got)
	}
}

// planVerifyOffline is verify's plan up to the one request it may make
// (the sitemap): the config and environment, every flag, the shard from
// $JOB_COMPLETION_INDEX, the expectations and the session.
func planVerifyOffline(o *VerifyOptions) error {
	cfg, env, err := o.requireEnvironment("verify")
	if err != nil {
		return err
	}
	if _, err := o.OutputFormat(report.Table, report.JSON, report.JSONL, report.JUnit, report.Markdown); err != nil {
		return err
	}
	if err := checkVerifyFlags(o); err != nil {
		return err
	}
	if _, err := verifyShard(o); err != nil {
		return err
	}
	if _, err := verify.NewPlanner(cfg, env); err != nil {
		return err
	}
	_, _, err = planVariants(o.cmdDeps, cfg, env, o.CookieEnv)
	return err
}

// TestWatchDeploymentManifest: the Deployment and Service decode strictly,
// the args parse with cachectl's real flags and plan a watch of the
// ConfigMap's routes as both variants, and the scrape annotations, the
// container port, the probes and the Service all name the --listen port.
func TestWatchDeploymentManifest(t *testing.T) {
	m := decodeManifests(t, "k8s-watch-deployment.yaml")
	if len(m.deployments) != 1 || len(m.services) != 1 || len(m.configMaps) != 1 {
		t.Fatalf("%d Deployments, %d Services, %d ConfigMaps; want one of each", len(m.deployments), len(m.services), len(m.configMaps))
	}
	d := m.deployments[0]
	pod := d.Spec.Template
	c := pod.Spec.Containers[0]
	if len(c.Command) != 1 || c.Command[0] != "cachectl" {
		t.Fatalf("command %q, want [cachectl]", c.Command)
	}
	var plan *watchPlan
	var got *WatchOptions
	code, msg := parseWithRoot(t, podEnviron(c), podFiles(t, m, pod.Spec, c, c.Args), "watch", func(f *Factory) *cobra.Command {
		return newCmdWatch(f, func(ctx context.Context, o *WatchOptions) (err error) {
			got = o
			plan, err = planWatch(ctx, o)
			return err
		})
	})
	if code != ExitOK || plan == nil {
		t.Fatalf("%q: exit %d: %s", c.Args, code, msg)
	}
	if len(plan.targets) != 2 || len(plan.variants) != 2 {
		t.Errorf("plan watches %d routes × %d variants, want the ConfigMap's 2 × anonymous and logged_in", len(plan.targets), len(plan.variants))
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1: every replica probes the site and exports the same series", d.Spec.Replicas)
	}
	checkScrapeTarget(t, got.Listen, pod, c, m.services[0])
}

// checkScrapeTarget checks that everything that reaches watch's listener
// names its port: the prometheus.io annotations, the container port, the
// probes and the Service.
func checkScrapeTarget(t *testing.T, listen string, pod corev1.PodTemplateSpec, c corev1.Container, svc *corev1.Service) {
	t.Helper()
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("--listen %q: %v", listen, err)
	}
	a := pod.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != port || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v, want scrape true, port %s, path /metrics", a, port)
	}
	if len(c.Ports) != 1 || strconv.Itoa(int(c.Ports[0].ContainerPort)) != port {
		t.Fatalf("container ports %v, want %s", c.Ports, port)
	}
	named := c.Ports[0].Name
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || (p.HTTPGet.Port.String() != named && p.HTTPGet.Port.String() != port) {
			t.Errorf("%s probe %+v, want GET /healthz on port %s", name, p, named)
		}
	}
	for k, v := range svc.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("Service selects %s=%s, which the pod is not labelled with", k, v)
		}
	}
	if len(svc.Spec.Ports) != 1 || (svc.Spec.Ports[0].TargetPort.String() != named && svc.Spec.Ports[0].TargetPort.String() != port) {
		t.Errorf("Service ports %+v, want one targeting %s", svc.Spec.Ports, named)
	}
}
