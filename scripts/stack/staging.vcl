# Staging cache for the Devnotes site.
#
# Staging started as a copy of production.vcl and differs in one way, the
# drift `cachectl diff --env production --env staging` is expected to report:
#
#   Staging caps every cache lifetime at 60 seconds so editors previewing an
#   article see their change within a minute, and rewrites max-age in the
#   Cache-Control it passes on so browsers do not keep a page longer than the
#   cache does. Production keeps the origin's lifetimes (home 300 s, articles
#   600 s, dashboard 120 s). Routes the origin marks private or no-store are
#   untouched, so they do not drift.
#
# It shares production's /dashboard mistake: the copy was taken after that
# rule went in.
#
# stack.sh rewrites the backend port below to $STACK_ORIGIN_PORT.
vcl 4.1;

backend origin {
    .host = "127.0.0.1";
    .port = "18080";
    .connect_timeout = 2s;
    .first_byte_timeout = 10s;
}

# Only the machine itself may purge; anyone else gets 405.
acl purgers {
    "127.0.0.0"/8;
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Purging not allowed from " + client.ip));
        }
        return (purge);
    }

    if (req.url ~ "^/dashboard") {
        unset req.http.Cookie;
        return (hash);
    }
}

sub vcl_backend_response {
    # Staging only: nothing stays cached for longer than a minute, and the
    # browser is told the same.
    if (beresp.ttl > 60s) {
        set beresp.ttl = 60s;
        if (beresp.http.Cache-Control ~ "max-age=[0-9]+") {
            set beresp.http.Cache-Control = regsub(beresp.http.Cache-Control, "max-age=[0-9]+", "max-age=60");
        }
    }

    if (bereq.url ~ "^/dashboard") {
        set beresp.grace = 10s;
        return (deliver);
    }
    set beresp.grace = 1m;
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
