//! A string that matches a simple `pattern`: literals, classes (`[a-z]`, `\d`, `\w`), groups
//! with alternatives (the first is taken) and quantifiers (the fewest repetitions, at least
//! one for `+`). What is not simple (lookaround, backreferences) gives `None`, and so does a
//! sample the real regex engine then refuses: a wrong value is worse than a note. Pure.

/// A sample for `pattern`, checked against it.
pub fn sample(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0;
    let out = alternatives(&chars, &mut pos)?;
    if pos != chars.len() {
        return None;
    }
    let re = regex::Regex::new(pattern).ok()?;
    re.is_match(&out).then_some(out)
}

/// `a|b|c` up to a `)` or the end: the first alternative's sample.
fn alternatives(p: &[char], pos: &mut usize) -> Option<String> {
    let first = sequence(p, pos)?;
    while *pos < p.len() && p[*pos] == '|' {
        *pos += 1;
        sequence(p, pos)?;
    }
    Some(first)
}

fn sequence(p: &[char], pos: &mut usize) -> Option<String> {
    let mut out = String::new();
    while *pos < p.len() && p[*pos] != '|' && p[*pos] != ')' {
        let atom = atom(p, pos)?;
        let times = quantifier(p, pos)?;
        for _ in 0..times {
            out.push_str(&atom);
        }
    }
    Some(out)
}

/// One atom's sample; anchors are empty.
fn atom(p: &[char], pos: &mut usize) -> Option<String> {
    let c = p[*pos];
    *pos += 1;
    Some(match c {
        '^' | '$' => String::new(),
        '.' => "a".into(),
        '(' => {
            if p.get(*pos) == Some(&'?') {
                // `(?:...)` only: lookaround cannot be sampled by parts.
                if p.get(*pos + 1) != Some(&':') {
                    return None;
                }
                *pos += 2;
            }
            let inner = alternatives(p, pos)?;
            if p.get(*pos) != Some(&')') {
                return None;
            }
            *pos += 1;
            inner
        }
        '[' => class(p, pos)?.to_string(),
        '\\' => escape(p, pos)?.to_string(),
        c if "*+?{}])|".contains(c) => return None,
        c => c.to_string(),
    })
}

fn escape(p: &[char], pos: &mut usize) -> Option<char> {
    let c = *p.get(*pos)?;
    *pos += 1;
    Some(match c {
        'd' => '0',
        'w' => 'a',
        's' => ' ',
        'D' | 'W' | 'S' => '-',
        c if c.is_ascii_alphanumeric() => return None,
        c => c,
    })
}

/// `[a-z0-9_]`: the first character the class allows; a negated class takes a letter it
/// does not name.
fn class(p: &[char], pos: &mut usize) -> Option<char> {
    let negated = p.get(*pos) == Some(&'^');
    if negated {
        *pos += 1;
    }
    let mut members = Vec::new();
    while *pos < p.len() && p[*pos] != ']' {
        let c = if p[*pos] == '\\' {
            *pos += 1;
            escape(p, pos)?
        } else {
            *pos += 1;
            p[*pos - 1]
        };
        members.push(c);
    }
    if p.get(*pos) != Some(&']') {
        return None;
    }
    *pos += 1;
    if negated {
        return "azAZ09".chars().find(|c| !members.contains(c));
    }
    members.first().copied()
}

/// How many times the atom before it repeats: the fewest allowed, one for `+`.
fn quantifier(p: &[char], pos: &mut usize) -> Option<usize> {
    let n = match p.get(*pos) {
        Some('*') | Some('?') => 0,
        Some('+') => 1,
        Some('{') => {
            let end = p[*pos..].iter().position(|c| *c == '}')? + *pos;
            let text: String = p[*pos + 1..end].iter().collect();
            let min = text.split(',').next()?.trim().parse().ok()?;
            *pos = end;
            min
        }
        _ => return Some(1),
    };
    *pos += 1;
    // A lazy or possessive marker changes nothing about the fewest repetitions.
    if matches!(p.get(*pos), Some('?') | Some('+')) {
        *pos += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_patterns_get_a_matching_sample_and_the_rest_none() {
        for (p, want) in [
            ("^[a-z]+$", "a"),
            (r"^\d{3}-\d{4}$", "000-0000"),
            ("^(cat|dog)s?$", "cat"),
            ("^[A-Z]{2}[0-9]{2,4}$", "AA00"),
            (r"^ORD-\w+$", "ORD-a"),
            ("^[^0-9]+$", "a"),
        ] {
            assert_eq!(sample(p).as_deref(), Some(want), "{p}");
        }
        for p in [r"^(?=a)a$", r"(a)\1", "[a-"] {
            assert_eq!(sample(p), None, "{p}");
        }
    }
}
