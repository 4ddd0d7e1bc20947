//! Finding a request's routes without trying every route: a tree of the routes' path
//! segments, built once per load.
//!
//! A file can hold thousands of routes (an OpenAPI document of a large API is a normal routes
//! file), and trying each in turn made the last route 13× slower than the first. The tree
//! returns every route whose path pattern matches, in file order; [`super::Routes::find`] then
//! applies the method rule to those few, so first-match-wins holds exactly as before (a
//! property test checks it against the linear matcher).

use std::collections::HashMap;

use crate::vocab::path_pattern::split;
use crate::vocab::{PathPattern, Segment};

/// The tree of path segments.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct RouteIndex {
    root: Node,
    /// The most segments any pattern has: a longer path matches nothing, so the walk (which
    /// recurses once per segment) never goes deeper than a pattern does.
    depth: usize,
    /// Whether any route answers CORS itself (`cors = "route"`), which every request asks.
    any_own_cors: bool,
}

/// One segment position. Literal children are sorted by their text: found by binary search,
/// and walked in an order that does not change from run to run (the 404's suggestions are
/// taken from that walk).
#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    literal: Vec<(String, Node)>,
    param: Option<Box<Node>>,
    /// Routes whose pattern ends here, in file order.
    ends: Vec<usize>,
}

/// The tree while it is built: inserting into sorted vectors one route at a time would cost
/// the square of a node's children.
#[derive(Default)]
struct Building {
    literal: HashMap<String, Building>,
    param: Option<Box<Building>>,
    ends: Vec<usize>,
}

impl Building {
    fn freeze(self) -> Node {
        let mut literal: Vec<(String, Node)> = self
            .literal
            .into_iter()
            .map(|(k, b)| (k, b.freeze()))
            .collect();
        literal.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Node {
            literal,
            param: self.param.map(|b| Box::new(b.freeze())),
            ends: self.ends,
        }
    }
}

impl Node {
    fn child(&self, part: &str) -> Option<&Node> {
        self.literal
            .binary_search_by(|(k, _)| k.as_str().cmp(part))
            .ok()
            .map(|i| &self.literal[i].1)
    }
}

impl RouteIndex {
    /// The index of `routes`, numbered in file order.
    pub(super) fn build(routes: &[super::Route]) -> RouteIndex {
        let mut index = Self::of_patterns(routes.iter().map(|r| &r.path));
        index.any_own_cors = routes.iter().any(|r| r.own_cors);
        index
    }

    /// The tree of `patterns`, numbered in the order given.
    fn of_patterns<'a>(patterns: impl IntoIterator<Item = &'a PathPattern>) -> RouteIndex {
        let mut root = Building::default();
        let mut depth = 0;
        for (i, p) in patterns.into_iter().enumerate() {
            let mut node = &mut root;
            for seg in &p.segments {
                node = match seg {
                    Segment::Literal(l) => node.literal.entry(l.clone()).or_default(),
                    Segment::Param(_) => node.param.get_or_insert_with(Box::default),
                };
            }
            node.ends.push(i);
            depth = depth.max(p.segments.len());
        }
        RouteIndex {
            root: root.freeze(),
            depth,
            any_own_cors: false,
        }
    }

    pub(super) fn any_own_cors(&self) -> bool {
        self.any_own_cors
    }

    /// Every route whose path pattern matches `path`, in file order.
    pub(super) fn matching(&self, path: &str) -> Vec<usize> {
        let mut parts: Vec<&str> = Vec::with_capacity(self.depth + 1);
        for part in split(path) {
            if parts.len() == self.depth {
                return Vec::new();
            }
            parts.push(part);
        }
        let mut out = Vec::new();
        collect(&self.root, &parts, &mut out);
        // Both a literal and a parameter branch can match; their routes interleave in the file.
        out.sort_unstable();
        out
    }

    /// Up to `limit` routes near `path`, for the 404's suggestions when the file is too large
    /// to score every route: the walk follows the path's segments (a parameter, or else the
    /// literal most like the segment, when none is equal), then takes routes from the deepest
    /// place reached outwards.
    pub(super) fn near(
        &self,
        path: &str,
        limit: usize,
        mut similarity: impl FnMut(&str, &str) -> f64,
    ) -> Vec<usize> {
        let mut trail = vec![&self.root];
        for part in split(path).take(self.depth) {
            let Some(node) = trail.last() else { break };
            let next = node
                .child(part)
                .or_else(|| node.param.as_deref().filter(|_| !part.is_empty()))
                .or_else(|| {
                    // The literals sorted next to the segment share the longest start with
                    // it: where a typo after the first letters lands.
                    let at = node.literal.partition_point(|(k, _)| k.as_str() < part);
                    let from = at.saturating_sub(NEAR_WINDOW / 2);
                    let to = (from + NEAR_WINDOW).min(node.literal.len());
                    node.literal[from..to]
                        .iter()
                        .map(|(k, n)| (similarity(k, part), n))
                        .filter(|(s, _)| *s > 0.0)
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                        .map(|(_, n)| n)
                });
            match next {
                Some(n) => trail.push(n),
                None => break,
            }
        }
        let mut out: Vec<usize> = Vec::with_capacity(limit);
        // Outwards from the deepest node: its subtree first, then each ancestor's.
        for node in trail.iter().rev() {
            gather(node, limit, &mut out);
            if out.len() >= limit {
                break;
            }
        }
        out
    }
}

/// How many literal children of one node `near` compares a segment with, when none is equal
/// (a flat file can have thousands under `/api`).
pub(super) const NEAR_WINDOW: usize = 32;

fn collect(node: &Node, parts: &[&str], out: &mut Vec<usize>) {
    let Some((first, rest)) = parts.split_first() else {
        out.extend_from_slice(&node.ends);
        return;
    };
    if let Some(child) = node.child(first) {
        collect(child, rest, out);
    }
    if let (false, Some(child)) = (first.is_empty(), &node.param) {
        collect(child, rest, out);
    }
}

/// Adds routes of `node`'s subtree not yet in `out`, until `out` holds `limit`. Iterative: a
/// subtree is as deep as the longest pattern, which the file's author chose.
fn gather(node: &Node, limit: usize, out: &mut Vec<usize>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        for &i in &n.ends {
            if out.len() >= limit {
                return;
            }
            if !out.contains(&i) {
                out.push(i);
            }
        }
        stack.extend(n.param.as_deref());
        stack.extend(n.literal.iter().rev().map(|(_, c)| c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn patterns(texts: &[&str]) -> Vec<PathPattern> {
        texts
            .iter()
            .map(|t| PathPattern::parse(t).unwrap())
            .collect()
    }

    /// The linear rule the index replaces: every pattern, in order.
    fn linear(ps: &[PathPattern], path: &str) -> Vec<usize> {
        (0..ps.len())
            .filter(|&i| ps[i].matches(path).is_some())
            .collect()
    }

    #[test]
    fn literal_and_parameter_branches_both_match_in_file_order() {
        let ps = patterns(&["/api/{id}", "/api/me", "/api/{id}/x", "/", "/api/"]);
        let ix = RouteIndex::of_patterns(&ps);
        assert_eq!(ix.matching("/api/me"), vec![0, 1]);
        assert_eq!(ix.matching("/api/7/x"), vec![2]);
        assert_eq!(ix.matching("/"), vec![3]);
        assert_eq!(
            ix.matching("/api/"),
            vec![4],
            "an empty segment is no parameter"
        );
        assert!(ix.matching("/api/7/x/y").is_empty());
    }

    #[test]
    fn a_path_deeper_than_any_pattern_is_refused_without_walking_it() {
        let ix = RouteIndex::of_patterns(&patterns(&["/a/{b}"]));
        let deep = "/a".repeat(40_000);
        assert!(ix.matching(&deep).is_empty());
    }

    #[test]
    fn near_finds_the_typo_and_stays_bounded() {
        let texts: Vec<String> = (0..2000)
            .map(|i| format!("/api/things{i}/{{id}}"))
            .collect();
        let mut all: Vec<&str> = texts.iter().map(String::as_str).collect();
        all.push("/api/students/{id}");
        let ps = patterns(&all);
        let ix = RouteIndex::of_patterns(&ps);
        let near = ix.near("/api/studnts/3", 32, super::super::similarity);
        assert!(near.len() <= 32);
        assert!(near.contains(&2000), "{near:?}");
    }

    fn segment() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["a", "b", "{p}", "{q}", "ab", ""])
    }

    proptest! {
        /// The index agrees with trying every pattern in order, for any file and path.
        #[test]
        fn the_index_matches_exactly_what_the_linear_matcher_matches(
            pats in prop::collection::vec(prop::collection::vec(segment(), 0..4), 0..24),
            paths in prop::collection::vec(prop::collection::vec(
                prop::sample::select(vec!["a", "b", "ab", "", "7"]), 0..5), 1..16),
        ) {
            let texts: Vec<String> = pats.iter().map(|p| format!("/{}", p.join("/"))).collect();
            // Patterns whose parameter sits in an empty segment are refused at load.
            let ps: Vec<PathPattern> = texts.iter().filter_map(|t| PathPattern::parse(t).ok()).collect();
            let ix = RouteIndex::of_patterns(&ps);
            for path in paths {
                let path = format!("/{}", path.join("/"));
                prop_assert_eq!(ix.matching(&path), linear(&ps, &path), "{}", path);
            }
        }
    }
}
