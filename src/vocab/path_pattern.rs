//! Route path patterns: literal segments and `{name}` parameters, one segment each.

/// A parsed `path = "/api/students/{id}"`.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPattern {
    pub text: String,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Literal(String),
    Param(String),
}

impl PathPattern {
    /// Parses a pattern; the error says what is wrong in a sentence.
    pub fn parse(text: &str) -> Result<PathPattern, String> {
        if !text.starts_with('/') {
            return Err(format!("a route path starts with `/`, e.g. `/{text}`"));
        }
        if text.contains(['?', '#']) {
            return Err("a route path has no query or fragment; match on the path only".into());
        }
        let mut segments = Vec::new();
        for seg in split(text) {
            if let Some(inner) = seg.strip_prefix('{') {
                let name = inner
                    .strip_suffix('}')
                    .ok_or_else(|| format!("`{seg}`: a parameter is written `{{name}}`"))?;
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!(
                        "`{seg}`: a parameter name is letters, digits and `_`"
                    ));
                }
                segments.push(Segment::Param(name.to_string()));
            } else if seg.contains(['{', '}']) {
                return Err(format!(
                    "`{seg}`: a parameter must be a whole segment, like `/{{id}}`"
                ));
            } else {
                segments.push(Segment::Literal(seg.to_string()));
            }
        }
        Ok(PathPattern {
            text: text.to_string(),
            segments,
        })
    }

    /// The parameters when `path` matches. A trailing slash is significant, as on real servers.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let parts: Vec<&str> = split(path).collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (seg, part) in self.segments.iter().zip(parts) {
            match seg {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => params.push((name.clone(), part.to_string())),
            }
        }
        Some(params)
    }
}

/// Segments after the leading slash; `/` alone has one empty segment, so `/a/` ≠ `/a`. The
/// one split every matcher uses, so an index agrees with [`PathPattern::matches`].
pub fn split(path: &str) -> impl Iterator<Item = &str> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}
