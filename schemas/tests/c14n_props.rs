//! Property-style tests over generated documents: the canonical form is a fixed
//! point, and what canonicalisation is meant to erase (attribute order, whitespace
//! inside tags, quote style, empty-element syntax, references versus literal
//! characters, CDATA versus escaped text) does not change it.

#[path = "c14n/cases.rs"]
mod cases;

use schemas::c14n::{Algorithm, Document};

const MODES: &[&str] = &["c14n", "c14n-comments", "exc", "exc-comments", "exc:p+#default"];
/// Namespace URIs by prefix (default, `p`, `q`); `p` and `q` never share one, so
/// `p:x` and `q:x` stay distinct attributes.
const URIS: [&[&str]; 3] =
    [&["urn:a", "urn:b", "http://example.org/c"], &["urn:a", "urn:b"], &["urn:q", "http://example.org/c"]];

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A document model that two different serialisations are produced from.
struct El {
    name: String,
    decls: Vec<(String, String)>,
    attrs: Vec<(String, String)>,
    children: Vec<Child>,
}

enum Child {
    El(El),
    Text(String),
    Comment(String),
}

fn gen(rng: &mut Rng, depth: usize) -> El {
    let prefixes = ["", "p", "q"];
    let mut decls = Vec::new();
    for (p, uris) in prefixes.iter().zip(URIS) {
        if depth == 0 || rng.below(4) == 0 {
            decls.push((p.to_string(), uris[rng.below(uris.len())].to_owned()));
        }
    }
    if depth > 0 && rng.below(6) == 0 {
        decls.retain(|(p, _)| !p.is_empty());
        decls.push((String::new(), String::new()));
    }
    let prefix = prefixes[rng.below(3)];
    let name = if prefix.is_empty() { format!("e{}", rng.below(3)) } else { format!("{prefix}:e{}", rng.below(3)) };
    let mut attrs = Vec::new();
    for (i, local) in ["id", "b", "a", "xml:lang", "p:x", "q:x", "p:y"].iter().enumerate() {
        if rng.below(3) == 0 && !(i == 3 && depth > 0 && rng.below(2) == 0) {
            attrs.push((local.to_string(), ["v", "a&b", "<\"'>", " t\tn\nr\r ", "Việt"][rng.below(5)].to_owned()));
        }
    }
    let mut children = Vec::new();
    for _ in 0..rng.below(if depth < 4 { 4 } else { 1 }) {
        children.push(match rng.below(4) {
            0 | 1 => Child::El(gen(rng, depth + 1)),
            2 => Child::Text(["x", " a < b & c > d ", "\r\n line\r", "đ\t"][rng.below(4)].to_owned()),
            _ => Child::Comment([" c ", "ý kiến", ""][rng.below(3)].to_owned()),
        });
    }
    El { name, decls, attrs, children }
}

/// How to write the model: two styles must canonicalise identically.
struct Style {
    reverse_attrs: bool,
    tag_space: &'static str,
    single_quotes: bool,
    self_close: bool,
    refs: bool,
}

fn escape(s: &str, style: &Style, in_attr: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '&' => out.push_str(if style.refs { "&#38;" } else { "&amp;" }),
            '<' => out.push_str(if style.refs { "&#x3C;" } else { "&lt;" }),
            '"' if in_attr && !style.single_quotes => out.push_str("&quot;"),
            '\'' if in_attr && style.single_quotes => out.push_str("&apos;"),
            '\t' | '\n' | '\r' if in_attr => out.push_str(&format!("&#{};", c as u32)),
            '\r' => out.push_str("&#xD;"),
            '>' if style.refs => out.push_str("&gt;"),
            'ệ' if style.refs => out.push_str("&#x1EC7;"),
            c => out.push(c),
        }
    }
    out
}

fn write(el: &El, style: &Style) -> String {
    let mut out = String::new();
    // Elements are written through an explicit stack, like the code under test.
    enum Job<'a> {
        Open(&'a El),
        Close(&'a str),
        Raw(String),
    }
    let mut jobs = vec![Job::Open(el)];
    while let Some(job) = jobs.pop() {
        match job {
            Job::Raw(s) => out.push_str(&s),
            Job::Close(name) => out.push_str(&format!("</{name}{}>", style.tag_space)),
            Job::Open(e) => {
                let q = if style.single_quotes { '\'' } else { '"' };
                let mut items: Vec<String> = e
                    .decls
                    .iter()
                    .map(
                        |(p, u)| if p.is_empty() { format!("xmlns={q}{u}{q}") } else { format!("xmlns:{p}={q}{u}{q}") },
                    )
                    .collect();
                items.extend(
                    e.attrs.iter().map(|(n, v)| format!("{n}{}={q}{}{q}", style.tag_space, escape(v, style, true))),
                );
                if style.reverse_attrs {
                    items.reverse();
                }
                out.push_str(&format!("<{}", e.name));
                for item in items {
                    out.push_str(&format!("{} {item}", style.tag_space));
                }
                if e.children.is_empty() && style.self_close {
                    out.push_str(&format!("{}/>", style.tag_space));
                    continue;
                }
                out.push_str(&format!("{}>", style.tag_space));
                jobs.push(Job::Close(&e.name));
                for c in e.children.iter().rev() {
                    jobs.push(match c {
                        Child::El(e) => Job::Open(e),
                        Child::Text(t) if style.refs && !t.contains('\r') && !t.contains("]]>") => {
                            Job::Raw(format!("<![CDATA[{t}]]>"))
                        }
                        Child::Text(t) => Job::Raw(escape(t, style, false)),
                        Child::Comment(c) => Job::Raw(format!("<!--{c}-->")),
                    });
                }
            }
        }
    }
    out
}

fn canon(xml: &[u8], mode: &str) -> Vec<u8> {
    let doc = Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(xml)));
    doc.canonicalize(doc.document(), None, &cases::algorithm(mode))
}

#[test]
fn syntax_variants_canonicalise_identically_and_are_fixed_points() {
    let plain = Style { reverse_attrs: false, tag_space: "", single_quotes: false, self_close: false, refs: false };
    let fancy = Style { reverse_attrs: true, tag_space: " \n\t", single_quotes: true, self_close: true, refs: true };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let model = gen(&mut rng, 0);
        let a = write(&model, &plain);
        let b = write(&model, &fancy);
        for mode in MODES {
            let ca = canon(a.as_bytes(), mode);
            assert_eq!(ca, canon(b.as_bytes(), mode), "{mode}\n{a}\n{b}");
            assert_eq!(canon(&ca, mode), ca, "not a fixed point under {mode}: {a}");
        }
    }
}

#[test]
fn golden_outputs_are_fixed_points() {
    for case in cases::CASES {
        let out = cases::run(case);
        let alg = cases::algorithm(case.mode);
        let doc = Document::parse(&out).unwrap_or_else(|e| panic!("{}: {e}", case.expected));
        assert_eq!(doc.canonicalize(doc.document(), None, &alg), out, "{} {}", case.expected, case.mode);
    }
    assert!(matches!(cases::algorithm("exc"), Algorithm::Exclusive { .. }));
}
