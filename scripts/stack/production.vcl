# Production cache for the Devnotes site.
#
# This is the configuration cachectl's demo and integration tests run
# against. It carries one realistic mistake, kept on purpose: the rule that
# "caches everything under /dashboard" strips the visitor's Cookie and stores
# the response even though the origin sets a cookie on it. A signed-in visitor
# is then served a cached dashboard (with a Set-Cookie minted for somebody
# else) — exactly what `cachectl inspect` reports as set-cookie-cacheable and
# logged-in-cached.
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

    # The dashboard was slow, so someone made it cacheable for everybody by
    # dropping the Cookie header. The origin personalizes it and says public:
    # together they turn a per-user page into a shared one.
    if (req.url ~ "^/dashboard") {
        unset req.http.Cookie;
        return (hash);
    }

    # Everything else follows Varnish's built-in rules: requests with a
    # Cookie or Authorization header are passed to the origin.
}

sub vcl_backend_response {
    if (bereq.url ~ "^/dashboard") {
        # Skips the built-in check that would refuse to store a response
        # carrying Set-Cookie: the cookie is stored and replayed to everyone.
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
