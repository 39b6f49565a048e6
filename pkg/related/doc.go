// Package related expands a purge target into the other routes that show its
// content: the home page that lists an article's title, its tag pages, the
// feed. The person who publishes an article names the article; the rules name
// the rest.
//
// Rules are written in the configuration, at the top level or per
// environment:
//
//	related:
//	  - match: /articles/{slug}          # {name} captures one path segment
//	    also: [/, /feed.xml, /tags/*]    # may use the captures, e.g. /authors/{slug}/
//	  - match: /docs/{section}/{page}.html
//	    also: [/docs/{section}/, /docs/{section}/index.json]
//
// # Match patterns
//
// A match pattern is a path: it starts with "/" and has no query or fragment.
// Its segments are literal text and captures. A capture {name} (ASCII
// letters, digits and "_", not starting with a digit) matches a non-empty
// part of one segment, never a "/", and never the value "." or "..".
// A segment holds at most one capture, with literal text on either side
// allowed: /{slug}.html and /post-{id} match /a.b.html (slug "a.b") and
// /post-42; /{a}-{b} is refused because "x-y-z" splits more than one way.
// A "*" as the last character matches any rest of the path, more segments
// or none: /articles/* matches /articles/ and /articles/2024/a but not
// /articles. The segment of the "*" holds no capture.
//
// Matching looks at the path only: a full URL's scheme and host, and any
// query or fragment, are ignored (/articles/a?utm=x matches /articles/{slug}).
// Otherwise it is exact: case-sensitive, and a trailing slash counts
// (/articles/a/ does not match /articles/{slug}). Paths are compared after
// RFC 3986 normalization, so "%7E" and "~", "%c3%a9", "%C3%A9" and a raw "é"
// are the same. Every rule that matches applies, in the order written.
//
// # Also entries
//
// An also entry is a path starting with a single "/", without query or
// fragment. Full URLs are refused: the caller resolves each expansion against
// the environment's base URL, so one rule serves every environment and no
// rule reaches another host. Captures of the match may appear anywhere, any
// number of times (/archive/{year}-{month}/). A trailing "*" makes the entry
// a prefix purge of everything before it: /tags/* purges the prefix /tags/.
// /* alone is refused; purging a whole site is what --host and --everything
// are for. Non-ASCII text is percent-encoded; spaces and control characters
// are refused.
//
// A capture is substituted as the target wrote it, percent-encoding and all,
// so the expansion addresses the cache entry the site's own links address;
// only bytes that cannot stand in a path (non-ASCII, "{", a space) are
// percent-encoded.
//
// # Expansions
//
// [Set.Expand] lists a target's expansions in rule order, then also order.
// Two expansions are the same when their kind and normalized path are; the
// first is kept. The target itself never appears as its own expansion. A
// path that a prefix expansion also covers is still listed on its own: not
// every provider purges by prefix.
// Expansions are not expanded again: what a purge touches can be read off
// the rules that match the target, and no chain or cycle of rules can grow
// into a purge of the whole site. A rule that should reach further lists
// those paths in its own also.
//
// [Set.ExpandAll] does the same for a stream of targets with one
// deduplication across all of them (the first target to pull a path in is
// its RelatedTo). It holds the distinct expansions, never the targets, so it
// cannot know that an expansion is also one of the targets; a caller that
// holds its targets drops those.
package related
