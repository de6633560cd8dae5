package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// knownEnv is every BLOG_* variable serve reads.
func knownEnv() map[string]bool {
	var c config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	envFlags(fs, &c, storeFlags, serveFlags, newsletterFlags)
	known := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { known[envName(f.Name)] = true })
	return known
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type composeService struct {
	Image       string
	Build       any
	Restart     string
	Environment map[string]string
	Ports       []string
	Secrets     []string
	Volumes     []string
	DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	Healthcheck struct{ Test []string }
}

// TestCompose: docker-compose.yml is YAML (anchors and merges resolved) and
// runs two replicas on one Postgres with one host key, using only
// variables the binary knows.
func TestCompose(t *testing.T) {
	var compose struct {
		Services map[string]composeService
		Secrets  map[string]struct{ File string }
		Volumes  map[string]any
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "docker-compose.yml")), &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	pg, ok := compose.Services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:16") || len(pg.Healthcheck.Test) == 0 || len(pg.Volumes) == 0 {
		t.Errorf("postgres service = %+v; want postgres:16 with a healthcheck and a volume", pg)
	}
	known := knownEnv()
	ports := map[string]string{}
	replicas := []string{"blog1", "blog2"}
	for _, name := range replicas {
		s, ok := compose.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		if s.Build == nil || s.Restart != "unless-stopped" || s.DependsOn["postgres"].Condition != "service_healthy" {
			t.Errorf("%s: build %v, restart %q, depends_on %+v; want built here, unless-stopped, after postgres is healthy",
				name, s.Build, s.Restart, s.DependsOn)
		}
		for v := range s.Environment {
			if !known[v] {
				t.Errorf("%s sets %s, which blog does not read", name, v)
			}
		}
		if url := s.Environment["BLOG_DATABASE_URL"]; !strings.Contains(url, "@postgres:5432/") {
			t.Errorf("%s: BLOG_DATABASE_URL %q does not name the postgres service", name, url)
		}
		if len(s.Secrets) != 1 || s.Environment["BLOG_HOST_KEY"] != "/run/secrets/"+s.Secrets[0] || compose.Secrets[s.Secrets[0]].File == "" {
			t.Errorf("%s: secrets %q, BLOG_HOST_KEY %q; want the mounted host key file", name, s.Secrets, s.Environment["BLOG_HOST_KEY"])
		}
		for _, p := range s.Ports {
			host, _, _ := strings.Cut(p, ":")
			if other, dup := ports[host]; dup {
				t.Errorf("host port %s used by %s and %s", host, other, name)
			}
			ports[host] = name
		}
	}
	a, b := compose.Services[replicas[0]], compose.Services[replicas[1]]
	for _, v := range []string{"BLOG_DATABASE_URL", "BLOG_HOST_KEY"} {
		if a.Environment[v] != b.Environment[v] {
			t.Errorf("the replicas differ in %s: %q, %q", v, a.Environment[v], b.Environment[v])
		}
	}
	if ports["23234"] != "blog1" || ports["23235"] != "blog1" {
		t.Errorf("blog1 should publish 23234 and 23235: %v", ports)
	}
}

// TestDeployFiles: the example env file names only known variables, and
// the HAProxy example balances SSH at the TCP level across both replicas.
func TestDeployFiles(t *testing.T) {
	known := knownEnv()
	sc := bufio.NewScanner(strings.NewReader(readFile(t, "deploy/example.env")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, _, found := strings.Cut(line, "=")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !found || (!known[name] && name != "POSTGRES_PASSWORD") {
			t.Errorf("deploy/example.env: %q is not a variable blog or compose reads", line)
		}
	}
	cfg := readFile(t, "deploy/haproxy.cfg")
	for _, want := range []string{"mode tcp", "server blog1 blog1:23234", "server blog2 blog2:23234", "GET /readyz"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("deploy/haproxy.cfg lacks %q", want)
		}
	}
}

// TestDockerfile checks what the build test cannot run: the stages, the
// user, the volume and the health check, and that the Go image matches go.mod.
func TestDockerfile(t *testing.T) {
	df := readFile(t, "Dockerfile")
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readFile(t, "go.mod"))
	from := regexp.MustCompile(`(?m)^FROM golang:(\S+) AS build$`).FindStringSubmatch(df)
	if goLine == nil || from == nil || !strings.HasPrefix(from[1], goLine[1]) {
		t.Errorf("builder image %q does not match go.mod's go %q", from, goLine)
	}
	for _, want := range []string{
		"COPY go.mod go.sum ./\nRUN go mod download\n",
		"FROM gcr.io/distroless/static-debian12:nonroot\n",
		"USER 65532:65532\n",
		"ENV BLOG_DATA_DIR=/data\n",
		"VOLUME /data\n",
		"EXPOSE 23234 23235 23238\n",
		`CMD ["/blog", "healthcheck"]`,
		`ENTRYPOINT ["/blog"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	ignore := strings.Fields(readFile(t, ".dockerignore"))
	for _, want := range []string{".git", ".env", "deploy"} {
		if !slices.Contains(ignore, want) {
			t.Errorf(".dockerignore does not keep %q out of the build context", want)
		}
	}
}

// The README's configuration table is the operator's reference: every
// setting serve has is a row with its flag and its variable, and every row
// names a setting serve has.
func TestReadmeConfigurationTableMatchesFlags(t *testing.T) {
	known := knownEnv()
	rows := map[string]bool{}
	for _, line := range strings.Split(readFile(t, "README.md"), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`--") {
			continue
		}
		flagName := strings.Trim(strings.TrimSpace(cells[1]), "`-")
		env := strings.Trim(strings.TrimSpace(cells[2]), "`")
		if !strings.HasPrefix(env, "BLOG_") {
			continue // another table, e.g. the security limits
		}
		if envName(flagName) != env {
			t.Errorf("README row --%s names %s, want %s", flagName, env, envName(flagName))
		}
		if !known[env] {
			t.Errorf("README documents --%s, which serve does not have", flagName)
		}
		rows[env] = true
	}
	for env := range known {
		if !rows[env] {
			t.Errorf("serve reads %s, but the README configuration table has no row for it", env)
		}
	}
}
