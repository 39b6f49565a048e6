package stacktest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// setupNginx: scripts/stack/caches/nginx.conf, purges through the
// separate purge location; AltURL is the "same location" server.
func setupNginx(s *cacheSetup) (*exec.Cmd, error) {
	if err := s.template("scripts/stack/caches/nginx.conf", "nginx.conf"); err != nil {
		return nil, err
	}
	s.c.Endpoint = s.c.URL + "/purge"
	s.c.AltURL = "http://127.0.0.1:" + strconv.Itoa(s.ports[1])
	conf := filepath.Join(s.c.Dir, "nginx.conf")
	return exec.Command("/usr/sbin/nginx", "-c", conf, "-p", s.c.Dir+"/", "-e", filepath.Join(s.c.Dir, "error.log")), nil
}

// setupSquid: scripts/stack/caches/squid.conf, in the foreground (-N).
func setupSquid(s *cacheSetup) (*exec.Cmd, error) {
	if err := s.template("scripts/stack/caches/squid.conf", "squid.conf"); err != nil {
		return nil, err
	}
	return exec.Command("/usr/sbin/squid", "-N", "-f", filepath.Join(s.c.Dir, "squid.conf")), nil
}

// setupTrafficServer: a runroot of its own under Dir with the files of
// scripts/stack/caches/trafficserver; AltURL reaches it as localhost,
// whose remap rule leaves the cache codes out of Via.
func setupTrafficServer(s *cacheSetup) (*exec.Cmd, error) {
	dir := s.c.Dir
	for _, d := range []string{"etc", "cache", "var", "run", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o777); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"records.config", "remap.config", "ip_allow.yaml", "plugin.config", "storage.config"} {
		if err := s.template("scripts/stack/caches/trafficserver/"+f, filepath.Join("etc", f)); err != nil {
			return nil, err
		}
	}
	// Files Traffic Server reads at start-up; empty keeps its defaults.
	for _, f := range []string{"cache.config", "hosting.config", "parent.config", "volume.config", "splitdns.config",
		"socks.config", "sni.yaml", "strategies.yaml", "logging.yaml", "ssl_multicert.config"} {
		if err := os.WriteFile(filepath.Join(dir, "etc", f), nil, 0o644); err != nil {
			return nil, err
		}
	}
	layout := fmt.Sprintf("prefix: %[1]s\nexec_prefix: /usr\nbindir: /usr/bin\nsbindir: /usr/bin\nsysconfdir: %[1]s/etc\n"+
		"datadir: %[1]s/cache\nincludedir: /usr/include\nlibdir: /usr/lib/trafficserver\nlibexecdir: /usr/lib/trafficserver/modules\n"+
		"localstatedir: %[1]s/var\nruntimedir: %[1]s/run\nlogdir: %[1]s/log\ncachedir: %[1]s/cache\n", dir)
	if err := os.WriteFile(filepath.Join(dir, "runroot.yaml"), []byte(layout), 0o644); err != nil {
		return nil, err
	}
	s.c.AltURL = "http://localhost:" + strconv.Itoa(s.ports[0])
	return exec.Command("/usr/bin/traffic_server", "--run-root="+dir), nil
}

// setupVarnishXkey: configs/varnish-xkey.vcl with this stack's origin.
func setupVarnishXkey(s *cacheSetup) (*exec.Cmd, error) {
	b, err := os.ReadFile(filepath.Join(s.root, "configs", "varnish-xkey.vcl"))
	if err != nil {
		return nil, err
	}
	vcl := strings.NewReplacer(`.host = "127.0.0.1";`, `.host = "`+s.origin.Hostname()+`";`,
		`.port = "8000";`, `.port = "`+s.origin.Port()+`";`).Replace(string(b))
	path := filepath.Join(s.c.Dir, "varnish.vcl")
	if err := os.WriteFile(path, []byte(vcl), 0o644); err != nil {
		return nil, err
	}
	port := strconv.Itoa(s.ports[0])
	return exec.Command("/usr/sbin/varnishd", "-F", "-n", filepath.Join(s.c.Dir, "w"),
		"-a", "127.0.0.1:"+port, "-a", "[::1]:"+port, "-T", "127.0.0.1:0", "-f", path,
		"-s", "malloc,32m", "-p", "thread_pools=1", "-p", "thread_pool_min=10", "-p", "vsl_space=16M"), nil
}
