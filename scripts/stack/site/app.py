"""Devnotes: a small programming-articles website used as the origin of the local stack.

It behaves like the content sites cachectl is made for: public pages with
Cache-Control, validators and 304s; a login that sets a session cookie;
private account pages; and one route, /dashboard, whose cache headers are
wrong on purpose (public, with Set-Cookie, personalized body), so the tool
has a real mistake to find.

Publishing: an editor retitles an article with POST /admin/articles/{slug}
(from this machine only). The title shows on the article, the home page, the
article's tag pages (/tags/{tag}) and the feed (/feed.xml), and each of them
keeps being served from a cache's old copy until it is purged. /now carries a
render time stamp that changes on every request, like many real pages.

Timing: articles and their comments live in a small SQLite database (in
memory), and every response says in Server-Timing how long its queries took
and how many there were (db;dur=0.412;desc="2 queries") and how long the whole
request took (app;dur=1.9). /popular (today's most discussed articles and the
latest comments) reads the comments by the time they were posted, through an
index; POST /admin/slow?on=1 (from this machine only) drops that index, as a
migration that forgot it would, and ?on=0 creates it again: the page becomes
slow on a cache miss and stays fast on a hit.

Run: /usr/bin/python3 -m uvicorn app:app --host 127.0.0.1 --port 18080
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import gzip
import hashlib
import html
import ipaddress
import json
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qs
from xml.sax.saxutils import escape as xml_escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

SESSION_COOKIE = "sessionid"
SITE_NAME = "Devnotes"

app = FastAPI(title=SITE_NAME, docs_url=None, redoc_url=None, openapi_url=None)


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    author: str
    updated: datetime
    tags: tuple[str, ...]
    summary: str
    paragraphs: tuple[str, ...] = field(default=())
    code: str = ""


def _dt(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=timezone.utc)


SEED_ARTICLES: dict[str, Article] = {
    a.slug: a
    for a in [
        Article(
            "go-context-cancellation",
            "Cancelling work with context.Context in Go",
            "Rob Fisher",
            _dt("2025-09-14T08:30:00"),
            ("go", "concurrency"),
            "Pass a context as the first argument and every blocking call can stop when the caller gives up.",
            (
                "A request handler that starts three database queries and an HTTP call should stop all four "
                "when the client disconnects. context.Context carries that signal down the call tree.",
                "Derive a child with context.WithTimeout, always defer the cancel function, and check ctx.Err() "
                "in long loops. Never store a context in a struct: pass it along.",
            ),
            "ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)\ndefer cancel()\nrows, err := db.QueryContext(ctx, q)",
        ),
        Article(
            "python-asyncio-basics",
            "asyncio basics: tasks, gather and timeouts",
            "Maya Lindqvist",
            _dt("2025-08-02T10:00:00"),
            ("python", "async"),
            "Coroutines do nothing until awaited or wrapped in a task; here is how to run many at once.",
            (
                "asyncio.gather runs awaitables concurrently and collects their results in order. "
                "asyncio.timeout (3.11+) bounds a block of awaits without threading a deadline through every call.",
                "Blocking calls such as time.sleep or requests.get freeze the event loop; move them to "
                "asyncio.to_thread.",
            ),
            "async with asyncio.timeout(2):\n    pages = await asyncio.gather(*(fetch(u) for u in urls))",
        ),
        Article(
            "rust-ownership-explained",
            "Ownership and borrowing in Rust, explained with a cache",
            "Ade Okafor",
            _dt("2025-07-21T12:15:00"),
            ("rust",),
            "Who frees the memory? In Rust the answer is in the type: one owner, many readers or one writer.",
            (
                "A HashMap<String, Page> owns its pages. get returns a shared reference; get_mut an exclusive one. "
                "The borrow checker refuses code that would hold both.",
            ),
            "let page = cache.entry(url).or_insert_with(|| fetch(&url));",
        ),
        Article(
            "http-caching-headers",
            "Cache-Control, ETag and Vary: what each one does",
            "Rob Fisher",
            _dt("2025-10-01T07:45:00"),
            ("http", "caching"),
            "public, private, no-cache, no-store and s-maxage mean different things to browsers and CDNs.",
            (
                "no-cache does not mean do not cache: it means revalidate before reuse. no-store is the one that "
                "keeps a response out of every cache.",
                "A shared cache may store a response that sets a cookie unless the origin says private. "
                "Personalized pages must say so.",
            ),
            "Cache-Control: public, max-age=600\nETag: \"5d8c72a5edda8d6a\"",
        ),
        Article(
            "postgres-index-tuning",
            "Finding the missing index in PostgreSQL",
            "Maya Lindqvist",
            _dt("2025-06-11T09:00:00"),
            ("postgres", "performance"),
            "EXPLAIN (ANALYZE, BUFFERS) shows where the time goes; pg_stat_statements shows which query to look at.",
            (
                "Start from pg_stat_statements ordered by total_exec_time, not from the slowest single run.",
            ),
            "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM articles WHERE slug = $1;",
        ),
        Article(
            "typescript-generics-guide",
            "TypeScript generics without the headache",
            "Lena Marsh",
            _dt("2025-05-30T16:20:00"),
            ("typescript",),
            "Constrain type parameters with extends, infer them from arguments, and stop writing any.",
            ("A generic function keeps the link between its input and output types.",),
            "function first<T>(items: T[]): T | undefined { return items[0]; }",
        ),
        Article(
            "kubernetes-readiness-probes",
            "Readiness versus liveness probes in Kubernetes",
            "Ade Okafor",
            _dt("2025-04-18T11:10:00"),
            ("kubernetes", "ops"),
            "A failing liveness probe restarts the pod; a failing readiness probe only takes it out of the Service.",
            ("Point readiness at a cheap endpoint that checks dependencies; keep liveness dumb.",),
            "readinessProbe:\n  httpGet: { path: /health, port: 8080 }\n  periodSeconds: 5",
        ),
        Article(
            "git-rebase-interactive",
            "Cleaning up a branch with git rebase -i",
            "Lena Marsh",
            _dt("2025-03-09T14:00:00"),
            ("git",),
            "Squash fixups, reword messages and reorder commits before review.",
            ("git commit --fixup=<sha> followed by git rebase -i --autosquash does most of the work.",),
            "git rebase -i --autosquash origin/main",
        ),
        Article(
            "sql-window-functions",
            "SQL window functions by example",
            "Maya Lindqvist",
            _dt("2025-02-25T09:40:00"),
            ("sql",),
            "Running totals, rankings and moving averages without self-joins.",
            ("OVER (PARTITION BY ... ORDER BY ...) defines the window; ROWS BETWEEN narrows it.",),
            "SELECT slug, views, rank() OVER (ORDER BY views DESC) FROM article_stats;",
        ),
        Article(
            "linux-systemd-timers",
            "Replacing cron with systemd timers",
            "Rob Fisher",
            _dt("2025-01-12T06:00:00"),
            ("linux", "ops"),
            "Timers log to the journal, survive missed runs with Persistent=true and can be listed in one command.",
            ("systemctl list-timers shows the next and last run of every timer.",),
            "[Timer]\nOnCalendar=daily\nPersistent=true",
        ),
    ]
}

# --- The database ---------------------------------------------------------
# Pages read articles and comments from SQLite, so a page costs real queries;
# each query's time is added to the request's Server-Timing.


@dataclass
class RequestTiming:
    """Database time and query count of the request being served."""

    db_ms: float = 0.0
    queries: int = 0


REQUEST_TIMING: contextvars.ContextVar[RequestTiming | None] = contextvars.ContextVar("request_timing", default=None)

DB = sqlite3.connect(":memory:", check_same_thread=False)
DB_LOCK = threading.Lock()

# Comments: enough of them that reading them without an index shows.
COMMENTS = 300_000
COMMENTS_INDEX = "comments_by_posted"


def query(sql: str, params: Iterable = ()) -> list[tuple]:
    """Run one statement and count its time against the current request."""
    start = time.perf_counter()
    with DB_LOCK:
        rows = DB.execute(sql, tuple(params)).fetchall()
    timing = REQUEST_TIMING.get()
    if timing is not None:
        timing.db_ms += (time.perf_counter() - start) * 1000
        timing.queries += 1
    return rows


def encode_article(a: Article) -> str:
    d = dataclasses.asdict(a)
    d["updated"] = a.updated.isoformat()
    return json.dumps(d)


def decode_article(data: str) -> Article:
    d = json.loads(data)
    d["updated"] = datetime.fromisoformat(d["updated"])
    d["tags"], d["paragraphs"] = tuple(d["tags"]), tuple(d["paragraphs"])
    return Article(**d)


class ArticleStore(MutableMapping):
    """The articles table, read and written like the dict it replaced:
    slug -> Article, in publication order."""

    def __getitem__(self, slug: str) -> Article:
        rows = query("SELECT data FROM articles WHERE slug = ?", (slug,))
        if not rows:
            raise KeyError(slug)
        return decode_article(rows[0][0])

    def __setitem__(self, slug: str, a: Article) -> None:
        query(
            "INSERT INTO articles (slug, data) VALUES (?, ?) ON CONFLICT (slug) DO UPDATE SET data = excluded.data",
            (slug, encode_article(a)),
        )

    def __delitem__(self, slug: str) -> None:
        query("DELETE FROM articles WHERE slug = ?", (slug,))

    def __iter__(self) -> Iterator[str]:
        return iter([r[0] for r in query("SELECT slug FROM articles ORDER BY rowid")])

    def __len__(self) -> int:
        return query("SELECT count(*) FROM articles")[0][0]

    def values(self) -> list[Article]:  # one query, not one per article
        return [decode_article(r[0]) for r in query("SELECT data FROM articles ORDER BY rowid")]


def create_database() -> None:
    DB.execute("CREATE TABLE articles (slug TEXT PRIMARY KEY, data TEXT NOT NULL)")
    DB.execute(
        "CREATE TABLE comments (id INTEGER PRIMARY KEY, article TEXT NOT NULL, author TEXT NOT NULL,"
        " posted INTEGER NOT NULL, body TEXT NOT NULL)"
    )
    DB.executemany("INSERT INTO articles (slug, data) VALUES (?, ?)", ((a.slug, encode_article(a)) for a in SEED_ARTICLES.values()))
    # Two years of comments, the same on every start; times are relative
    # to the start, so "today" always has some.
    rng = random.Random(20250314)
    now = int(time.time())
    slugs = list(SEED_ARTICLES)
    DB.executemany(
        "INSERT INTO comments (article, author, posted, body) VALUES (?, ?, ?, ?)",
        (
            (rng.choice(slugs), rng.choice(USERS), now - rng.randrange(730 * 86400), f"Comment {i}: thanks, this helped.")
            for i in range(COMMENTS)
        ),
    )
    DB.execute(f"CREATE INDEX {COMMENTS_INDEX} ON comments (posted)")
    DB.commit()


ARTICLES = ArticleStore()


class ServerTimingMiddleware:
    """Adds Server-Timing to every response: the request's database time
    and query count (when it made queries) and its total time at the
    origin."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        timing, start = RequestTiming(), time.perf_counter()
        token = REQUEST_TIMING.set(timing)

        async def send_with_timing(message) -> None:
            if message["type"] == "http.response.start":
                metrics = []
                if timing.queries:
                    noun = "query" if timing.queries == 1 else "queries"
                    metrics.append(f'db;dur={timing.db_ms:.3f};desc="{timing.queries} {noun}"')
                metrics.append(f"app;dur={(time.perf_counter() - start) * 1000:.3f}")
                headers = list(message.get("headers", [])) + [(b"server-timing", ", ".join(metrics).encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_timing)
        finally:
            REQUEST_TIMING.reset(token)


app.add_middleware(ServerTimingMiddleware)


# Synthetic articles (for benchmarks and purge tests) are generated from their
# slug; slugs with this prefix do not exist.
MISSING_PREFIX = "missing-"

_WORDS = (
    "cache latency request handler origin edge purge header cookie session deploy rollout "
    "goroutine coroutine buffer index query shard replica queue worker timeout retry backoff "
    "compiler module package interface closure iterator stream socket kernel container"
).split()

# Users known to the login form; the name shows up on personalized pages.
USERS = ("ada", "grace", "linus", "barbara", "ken")

# session id -> user name. In memory: the stack is a test fixture.
SESSIONS: dict[str, str] = {}

STARTED = datetime.now(timezone.utc).replace(microsecond=0)

create_database()


def synthetic_article(slug: str) -> Article:
    seed = int.from_bytes(hashlib.sha256(slug.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    title = slug.replace("-", " ").strip().capitalize() or "Untitled"
    paragraphs = tuple(
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(40, 90))).capitalize() + "."
        for _ in range(rng.randint(3, 6))
    )
    day = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp() + rng.randint(0, 600) * 86400
    return Article(
        slug=slug,
        title=title,
        author=rng.choice(("Rob Fisher", "Maya Lindqvist", "Ade Okafor", "Lena Marsh")),
        updated=datetime.fromtimestamp(day, timezone.utc),
        tags=(rng.choice(("go", "python", "rust", "ops", "sql")),),
        summary=paragraphs[0][:140],
        paragraphs=paragraphs,
    )


def current_user(request: Request) -> str | None:
    sid = request.cookies.get(SESSION_COOKIE)
    return SESSIONS.get(sid) if sid else None


def page(title: str, body: str, user: str | None = None) -> str:
    who = (
        f'<a href="/account">{html.escape(user)}</a>'
        if user
        else '<a href="/login">Sign in</a>'
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · {SITE_NAME}</title>
<style>
body{{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:0 1rem;color:#1d2330}}
header{{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #dde}}
pre{{background:#f4f5f9;padding:.8rem;overflow:auto}} .tag{{color:#5a6;margin-right:.4rem}}
</style>
</head>
<body>
<header><a href="/"><strong>{SITE_NAME}</strong></a><nav>{who}</nav></header>
<main>
{body}
</main>
<footer><p>&copy; 2025 {SITE_NAME} · notes on building software · <a href="/feed.xml">Feed</a></p></footer>
</body>
</html>
"""


def etag_for(content: str) -> str:
    return '"' + hashlib.sha256(content.encode()).hexdigest()[:20] + '"'


def http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(timezone.utc), usegmt=True)


def opaque_tag(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.1.2 and §13.1.3: If-None-Match is compared weakly (W/"x"
    matches "x"), and If-Modified-Since counts only without it."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = [opaque_tag(t) for t in inm.split(",")]
        return "*" in tags or opaque_tag(etag) in tags
    ims = request.headers.get("if-modified-since")
    if ims and last_modified is not None:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
    return False


def cacheable(
    request: Request,
    content: str,
    cache_control: str,
    last_modified: datetime | None = None,
    status_code: int = 200,
    media_type: str = "text/html",
) -> Response:
    """A response with validators that answers conditional requests with 304."""
    etag = etag_for(content)
    headers = {"Cache-Control": cache_control, "ETag": etag}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    if status_code == 200 and not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(content, status_code=status_code, headers=headers, media_type=media_type)


def article_list(articles: list[Article]) -> str:
    items = "\n".join(
        f'<li><a href="/articles/{a.slug}">{html.escape(a.title)}</a> '
        f"<small>by {html.escape(a.author)}, {a.updated:%d %b %Y}</small><br>{html.escape(a.summary)}</li>"
        for a in articles
    )
    return f"<ul>\n{items}\n</ul>"


def latest_first(articles) -> list[Article]:
    return sorted(articles, key=lambda a: a.updated, reverse=True)


def all_tags() -> list[str]:
    return sorted({t for a in ARTICLES.values() for t in a.tags})


@app.api_route("/", methods=["GET", "HEAD"])
async def home(request: Request) -> Response:
    user = current_user(request)
    latest = latest_first(ARTICLES.values())
    greeting = f"<p>Welcome back, {html.escape(user)}. 2 drafts waiting.</p>" if user else ""
    body = f"<h1>Latest articles</h1>\n{greeting}\n{article_list(latest)}"
    content = page("Latest articles", body, user)
    if user:
        # The signed-in home page greets the reader by name: only their browser may keep it.
        return HTMLResponse(content, headers={"Cache-Control": "private, no-cache"})
    return cacheable(request, content, "public, max-age=300", latest[0].updated)


@app.api_route("/articles/{slug}", methods=["GET", "HEAD"])
async def article(request: Request, slug: str) -> Response:
    if slug.startswith(MISSING_PREFIX):
        content = page("Not found", "<h1>Article not found</h1><p>It may have been unpublished.</p>")
        return HTMLResponse(content, status_code=404, headers={"Cache-Control": "public, max-age=60"})
    a = ARTICLES.get(slug) or synthetic_article(slug)
    tags = "".join(f'<a class="tag" href="/tags/{t}">#{t}</a>' for t in a.tags)
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in a.paragraphs)
    code = f"<pre><code>{html.escape(a.code)}</code></pre>" if a.code else ""
    body = f"""<article>
<h1>{html.escape(a.title)}</h1>
<p><small>by {html.escape(a.author)} · updated {a.updated:%d %B %Y}</small> {tags}</p>
<p><em>{html.escape(a.summary)}</em></p>
{paragraphs}
{code}
</article>"""
    # Article pages are the same for everyone; the header shows the sign-in
    # link only, so the page stays shareable in caches.
    return cacheable(request, page(a.title, body), "public, max-age=600", a.updated)


@app.api_route("/health", methods=["GET", "HEAD"])
async def health() -> Response:
    return JSONResponse(
        {"status": "ok", "articles": len(ARTICLES), "sessions": len(SESSIONS)},
        headers={"Cache-Control": "no-store"},
    )


@app.api_route("/login", methods=["GET", "POST"])
async def login(request: Request) -> Response:
    user = request.query_params.get("user", "")
    if request.method == "POST":
        form = await request.body()
        for pair in form.decode(errors="replace").split("&"):
            k, _, v = pair.partition("=")
            if k == "user":
                user = v
    if user not in USERS:
        user = USERS[len(SESSIONS) % len(USERS)]
    sid = secrets.token_urlsafe(24)
    SESSIONS[sid] = user
    content = page("Signed in", f"<h1>Signed in as {html.escape(user)}</h1><p><a href=\"/account\">Your account</a></p>", user)
    resp = HTMLResponse(content, headers={"Cache-Control": "no-store"})
    resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", path="/")
    return resp


@app.api_route("/account", methods=["GET", "HEAD"])
async def account(request: Request) -> Response:
    user = current_user(request)
    if user:
        body = (
            f"<h1>Account: {html.escape(user)}</h1>"
            f"<p>Email: {html.escape(user)}@devnotes.example</p><p>Plan: Supporter</p>"
        )
    else:
        body = '<h1>Account</h1><p><a href="/login">Sign in</a> to see your account.</p>'
    return HTMLResponse(
        page("Account", body, user),
        headers={"Cache-Control": "private, no-cache", "Vary": "Cookie"},
    )


@app.api_route("/dashboard", methods=["GET", "HEAD"])
async def dashboard(request: Request) -> Response:
    # The mistake this route keeps on purpose: a personalized page declared
    # public, refreshing a cookie on every response. A shared cache that
    # ignores Set-Cookie will store it.
    user = current_user(request)
    if user:
        body = (
            f"<h1>Dashboard for {html.escape(user)}</h1>"
            "<p>Your drafts: 2 · Comments awaiting reply: 5</p>"
        )
    else:
        body = "<h1>Dashboard</h1><p>Sign in to see your drafts.</p>" + article_list(
            list(ARTICLES.values())[:3]
        )
    resp = HTMLResponse(
        page("Dashboard", body, user),
        headers={"Cache-Control": "public, max-age=120"},
    )
    resp.set_cookie("last_seen", str(int(time.time())), path="/", samesite="lax")
    return resp


@app.api_route("/redirect-me", methods=["GET", "HEAD"])
async def redirect_me() -> Response:
    return RedirectResponse("/", status_code=301, headers={"Cache-Control": "public, max-age=3600"})


STYLESHEET = """body{font:16px/1.6 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:0 1rem;color:#1d2330}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #dde}
pre{background:#f4f5f9;padding:.8rem;overflow:auto}
.tag{color:#5a6;margin-right:.4rem}
"""


@app.api_route("/styles.css", methods=["GET", "HEAD"])
async def styles(request: Request) -> Response:
    """The stylesheet, gzip-compressed for clients that accept it: one URL
    that a cache honouring Vary keeps as two entries, one per encoding."""
    headers = {"Cache-Control": "public, max-age=600", "Vary": "Accept-Encoding"}
    body = STYLESHEET.encode()
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        body = gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, headers=headers, media_type="text/css")


@app.api_route("/slow", methods=["GET", "HEAD"])
async def slow(request: Request) -> Response:
    # Stands in for an expensive page (search, a report) so cache hits show up in timings.
    await asyncio.sleep(0.2)
    return cacheable(request, page("Slow page", "<h1>Built the slow way</h1>"), "public, max-age=60", STARTED)


@app.api_route("/popular", methods=["GET", "HEAD"])
async def popular(request: Request) -> Response:
    """Today's most discussed articles and the latest comments: two queries
    that read comments by the time they were posted, fast with the index
    and slow without it (POST /admin/slow)."""
    day_ago = int(time.time()) - 86400
    discussed = query(
        "SELECT article, count(*) AS n FROM comments WHERE posted >= ? GROUP BY article ORDER BY n DESC, article LIMIT 5",
        (day_ago,),
    )
    latest = query("SELECT article, author, posted, body FROM comments ORDER BY posted DESC LIMIT 10")
    top = "\n".join(
        f'<li><a href="/articles/{slug}">{html.escape(slug)}</a>: {n} comments today</li>' for slug, n in discussed
    )
    recent = "\n".join(
        f'<li>{html.escape(author)} on <a href="/articles/{slug}">{html.escape(slug)}</a>: {html.escape(body)}</li>'
        for slug, author, _, body in latest
    )
    body = f"<h1>Popular today</h1>\n<ol>\n{top}\n</ol>\n<h2>Latest comments</h2>\n<ul>\n{recent}\n</ul>"
    return cacheable(request, page("Popular today", body), "public, max-age=300")


@app.api_route("/tags/{tag}", methods=["GET", "HEAD"])
async def tag_page(request: Request, tag: str) -> Response:
    tagged = latest_first(a for a in ARTICLES.values() if tag in a.tags)
    if not tagged:
        content = page("Not found", "<h1>No such tag</h1>")
        return HTMLResponse(content, status_code=404, headers={"Cache-Control": "public, max-age=60"})
    body = f"<h1>Articles tagged #{html.escape(tag)}</h1>\n{article_list(tagged)}"
    return cacheable(request, page(f"#{tag}", body), "public, max-age=300", tagged[0].updated)


@app.api_route("/feed.xml", methods=["GET", "HEAD"])
async def feed(request: Request) -> Response:
    """RSS 2.0, newest first. Links are absolute, built from the Host the
    request came with, as every cache in front passes it on."""
    base = str(request.base_url).rstrip("/")
    latest = latest_first(ARTICLES.values())
    items = "\n".join(
        f"""<item>
<title>{xml_escape(a.title)}</title>
<link>{base}/articles/{a.slug}</link>
<guid isPermaLink="true">{base}/articles/{a.slug}</guid>
<pubDate>{http_date(a.updated)}</pubDate>
<description>{xml_escape(a.summary)}</description>
</item>"""
        for a in latest
    )
    content = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
<title>{SITE_NAME}</title>
<link>{base}/</link>
<description>Notes on building software</description>
<lastBuildDate>{http_date(latest[0].updated)}</lastBuildDate>
{items}
</channel>
</rss>
"""
    return cacheable(
        request, content, "public, max-age=300", latest[0].updated, media_type="application/rss+xml"
    )


@app.api_route("/sitemap.xml", methods=["GET", "HEAD"])
async def sitemap(request: Request) -> Response:
    """Every public page: home, articles, tag pages, the feed and /now."""
    base = str(request.base_url).rstrip("/")
    latest = latest_first(ARTICLES.values())
    entries = [("/", latest[0].updated)]
    entries += [(f"/articles/{a.slug}", a.updated) for a in latest]
    entries += [
        (f"/tags/{t}", max(a.updated for a in ARTICLES.values() if t in a.tags)) for t in all_tags()
    ]
    entries += [("/feed.xml", latest[0].updated), ("/now", None)]
    urls = "\n".join(
        f"<url><loc>{xml_escape(base + path)}</loc>"
        + (f"<lastmod>{updated:%Y-%m-%dT%H:%M:%SZ}</lastmod>" if updated else "")
        + "</url>"
        for path, updated in entries
    )
    content = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n'
    )
    return cacheable(request, content, "public, max-age=300", latest[0].updated, media_type="application/xml")


@app.api_route("/now", methods=["GET", "HEAD"])
async def now(request: Request) -> Response:
    # Rendered on every request with the time it was rendered, and so without
    # validators: the body changes each time although nothing was edited.
    rendered = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    authors = sorted({a.author for a in ARTICLES.values()})
    items = "\n".join(f"<li>{html.escape(name)}</li>" for name in authors)
    body = (
        "<h1>Now</h1>\n<p>Who writes here these days:</p>\n"
        f"<ul>\n{items}\n</ul>\n"
        f'<p><small>Rendered <span class="rendered">{rendered}</span></small></p>'
    )
    return HTMLResponse(page("Now", body), headers={"Cache-Control": "public, max-age=300"})


def surrogate_keys(path: str) -> str:
    """The tags (surrogate keys) of a page: one per article it shows, plus
    the page's own, so a cache that indexes them (Varnish xkey) can purge
    every page showing an article at once."""
    def article_keys(articles) -> list[str]:
        return [f"article-{a.slug}" for a in articles]

    parts = path.strip("/").split("/")
    if path == "/":
        return " ".join(["home"] + article_keys(ARTICLES.values()))
    if path == "/feed.xml":
        return " ".join(["feed"] + article_keys(ARTICLES.values()))
    if len(parts) == 2 and parts[0] == "articles":
        return f"article-{parts[1]}"
    if len(parts) == 2 and parts[0] == "tags":
        return " ".join([f"tag-{parts[1]}"] + article_keys(a for a in ARTICLES.values() if parts[1] in a.tags))
    return ""


@app.middleware("http")
async def add_surrogate_keys(request: Request, call_next):
    response = await call_next(request)
    keys = surrogate_keys(request.url.path)
    if keys and response.status_code == 200:
        response.headers["xkey"] = keys
    return response


def direct_from_loopback(request: Request) -> bool:
    """The request comes from this machine and not through a cache: Varnish
    would connect from loopback too, but adds X-Forwarded-For."""
    if request.client is None or "x-forwarded-for" in request.headers:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


@app.post("/admin/articles/{slug}")
async def edit_article(request: Request, slug: str) -> Response:
    """Retitle an article: form field title. Its updated time moves forward
    (at least a second, so Last-Modified changes too)."""
    no_store = {"Cache-Control": "no-store"}
    if not direct_from_loopback(request):
        return JSONResponse({"error": "editing is allowed from this machine only"}, status_code=403, headers=no_store)
    current = ARTICLES.get(slug)
    if current is None:
        return JSONResponse({"error": f"no article {slug}"}, status_code=404, headers=no_store)
    form = parse_qs((await request.body()).decode(errors="replace"))
    title = form.get("title", [""])[0].strip()
    if not title:
        return JSONResponse({"error": "form field title is required"}, status_code=400, headers=no_store)
    updated = max(
        datetime.now(timezone.utc).replace(microsecond=0),
        current.updated + timedelta(seconds=1),
    )
    ARTICLES[slug] = dataclasses.replace(current, title=title, updated=updated)
    return JSONResponse(
        {"slug": slug, "title": title, "updated": updated.isoformat().replace("+00:00", "Z")},
        headers=no_store,
    )


@app.post("/admin/slow")
async def admin_slow(request: Request) -> Response:
    """Make /popular slow (on=1: drop the index its queries use, the missing
    index of a careless migration) or fast again (on=0: create it)."""
    no_store = {"Cache-Control": "no-store"}
    if not direct_from_loopback(request):
        return JSONResponse({"error": "allowed from this machine only"}, status_code=403, headers=no_store)
    on = request.query_params.get("on", "1").lower() in ("1", "true", "yes", "on")
    if on:
        query(f"DROP INDEX IF EXISTS {COMMENTS_INDEX}")
    else:
        query(f"CREATE INDEX IF NOT EXISTS {COMMENTS_INDEX} ON comments (posted)")
    return JSONResponse({"slow": on, "index": "dropped" if on else "present"}, headers=no_store)
