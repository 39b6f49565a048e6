# Varnish for http-purge with every kind of purge cachectl sends: URLs
# (PURGE), tags (PURGE with xkey-purge or xkey-softpurge, through the xkey
# module of varnish-modules) and URL prefixes (BAN with X-Host and X-Url).
#
#   environments:
#     production:
#       cdn:
#         provider: http-purge
#         endpoints: [http://10.0.0.5:6081]
#         tags: xkey      # cachectl purge --tag article-42 [--soft]
#         prefix: ban     # cachectl purge --prefix /tags/
#
# The origin names each response's tags in an xkey header, separated by
# spaces (xkey: article-42 home). Debian: apt-get install varnish varnish-modules.
vcl 4.1;

import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
}

# The machines that may purge. Anyone else gets 403.
acl purgers {
    "127.0.0.1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        # Tags: every object whose xkey header names one of them.
        if (req.http.xkey-purge) {
            set req.http.n-gone = xkey.purge(req.http.xkey-purge);
            return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
        }
        # Soft purge: the objects stay, expired, for grace.
        if (req.http.xkey-softpurge) {
            set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge);
            return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
        }
        # One URL: every variant of it.
        return (purge);
    }
    if (req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.X-Host || !req.http.X-Url) {
            return (synth(400, "BAN needs X-Host and X-Url"));
        }
        # X-Host and X-Url are regular expressions; cachectl anchors and
        # escapes them (^www\.example\.com$, ^/tags/).
        ban("obj.http.X-Host ~ " + req.http.X-Host + " && obj.http.X-Url ~ " + req.http.X-Url);
        return (synth(200, "Ban added"));
    }
}

sub vcl_backend_response {
    # Bans test objects, not requests, so the ban lurker can apply them in
    # the background: each object keeps the host and URL it was stored under.
    set beresp.http.X-Host = bereq.http.host;
    set beresp.http.X-Url = bereq.url;
}

sub vcl_deliver {
    unset resp.http.X-Host;
    unset resp.http.X-Url;
    # The status header cachectl reads (X-Varnish also works).
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
