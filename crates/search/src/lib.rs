//! The text wangge searches: what a record is indexed under, and what a
//! query looks for.
//!
//! Chinese is segmented with jieba (its dictionary plus wangge's own words:
//! 网格员, 占道经营, 雨水井盖, 五保户 …) in search mode, so that both a word
//! and its parts are found; traditional characters are folded to
//! simplified first (網格 finds 网格); names of people and businesses are
//! also indexed by every character, every pair of characters, full pinyin
//! and initials (明芳, limingfang and lmf all find 李明芳). Digits and Latin
//! letters are kept as they are, lower-cased (13栋 is "13" and "栋").
//!
//! Tokens are plain words separated by spaces: SQLite's FTS5 (unicode61)
//! and PostgreSQL's `to_tsvector('simple', …)` split them the same way.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use jieba_rs::Jieba;
use pinyin::ToPinyin;

const DICT: &str = include_str!("../data/dict.txt");

fn jieba() -> &'static Jieba {
    static J: OnceLock<Jieba> = OnceLock::new();
    J.get_or_init(|| {
        let mut j = Jieba::new();
        for line in DICT.lines() {
            let mut parts = line.split_whitespace();
            if let Some(word) = parts.next() {
                let freq = parts.next().and_then(|f| f.parse().ok());
                j.add_word(word, freq, parts.next());
            }
        }
        j
    })
}

/// Traditional → simplified, full-width → half-width, lower case.
pub fn fold(text: &str) -> String {
    let simplified = fast2s::convert(text);
    simplified
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2EBEF)
}

/// Whether a token is kept: letters, digits and CJK only.
fn keep(token: &str) -> bool {
    !token.is_empty() && token.chars().all(|c| c.is_alphanumeric())
}

/// Splits folded text into runs of CJK, of ASCII letters/digits, and others.
fn words(folded: &str, out: &mut BTreeSet<String>) {
    for piece in jieba().cut_for_search(folded, true) {
        // jieba keeps digits and letters together ("13栋" → "13", "栋").
        let mut run = String::new();
        let mut run_cjk = None;
        for c in piece.word.chars() {
            if !c.is_alphanumeric() {
                if keep(&run) {
                    out.insert(std::mem::take(&mut run));
                }
                run.clear();
                run_cjk = None;
                continue;
            }
            let cjk = is_cjk(c);
            if run_cjk.is_some_and(|k| k != cjk) && keep(&run) {
                out.insert(std::mem::take(&mut run));
            }
            run_cjk = Some(cjk);
            run.push(c);
        }
        if keep(&run) {
            out.insert(run);
        }
    }
}

/// Tokens of free text (descriptions, addresses, situations).
pub fn text_tokens(text: &str, out: &mut BTreeSet<String>) {
    words(&fold(text), out);
}

/// Tokens of a name (person or business): its words, every character,
/// every pair of characters, full pinyin and initials.
pub fn name_tokens(name: &str, out: &mut BTreeSet<String>) {
    let folded = fold(name);
    let cjk: Vec<char> = folded.chars().filter(|c| is_cjk(*c)).collect();
    // A short Chinese name is covered by every run of its characters
    // (whatever piece of it a query is cut into); longer names and mixed
    // ones (business names) are segmented.
    if cjk.len() == folded.chars().count() && cjk.len() <= 4 {
        for len in 3..=cjk.len() {
            for run in cjk.windows(len) {
                out.insert(run.iter().collect());
            }
        }
    } else {
        words(&folded, out);
    }
    if cjk.is_empty() {
        return;
    }
    for c in &cjk {
        out.insert(c.to_string());
    }
    for pair in cjk.windows(2) {
        out.insert(pair.iter().collect());
    }
    let mut full = String::new();
    let mut initials = String::new();
    for p in cjk
        .iter()
        .collect::<String>()
        .as_str()
        .to_pinyin()
        .flatten()
    {
        full.push_str(p.plain());
        initials.push_str(p.first_letter());
    }
    if !full.is_empty() {
        out.insert(full);
        out.insert(initials);
    }
}

/// The space-separated tokens a record is indexed under.
pub fn document(names: &[&str], texts: &[&str]) -> String {
    let mut out = BTreeSet::new();
    for n in names {
        name_tokens(n, &mut out);
    }
    for t in texts {
        text_tokens(t, &mut out);
    }
    out.into_iter().collect::<Vec<_>>().join(" ")
}

/// One term of a query: a token, matched whole, or as a prefix when it
/// is Latin letters or digits (`limin` finds `limingfang`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub token: String,
    pub prefix: bool,
}

/// The terms of a query, all of which must match. Chinese is segmented
/// as it is when indexing; a run of Chinese characters that jieba leaves
/// whole is also looked for as its pairs when the record is a name.
pub fn query(text: &str) -> Vec<Term> {
    let folded = fold(text);
    let mut set = BTreeSet::new();
    // Search mode gives a word and its parts; the query needs only the
    // longest pieces: drop those inside another piece.
    words(&folded, &mut set);
    let all: Vec<String> = set.into_iter().collect();
    let mut terms: Vec<Term> = all
        .iter()
        .filter(|t| {
            !all.iter()
                .any(|o| o != *t && o.contains(t.as_str()) && is_cjk_token(t) && is_cjk_token(o))
        })
        .map(|t| Term {
            token: t.clone(),
            prefix: !is_cjk_token(t),
        })
        .collect();
    terms.truncate(8);
    terms
}

fn is_cjk_token(t: &str) -> bool {
    t.chars().all(is_cjk)
}

/// A query as SQLite FTS5 reads it: `"t1" AND "t2"*`.
pub fn fts5_query(terms: &[Term]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"{}", t.token, if t.prefix { "*" } else { "" }))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A query as PostgreSQL's `to_tsquery('simple', …)` reads it: `t1 & t2:*`.
pub fn tsquery(terms: &[Term]) -> String {
    terms
        .iter()
        .map(|t| format!("{}{}", t.token, if t.prefix { ":*" } else { "" }))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> BTreeSet<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn traditional_folds_to_simplified() {
        assert_eq!(fold("網格員"), "网格员");
        assert_eq!(fold("ＡＢＣ１２３"), "abc123");
    }

    #[test]
    fn names_by_pinyin_initials_and_parts() {
        let doc = tokens(&document(&["李明芳"], &[]));
        for t in ["李明芳", "limingfang", "lmf", "明芳", "李明", "芳"] {
            assert!(doc.contains(t), "{t} in {doc:?}");
        }
        // Whatever a query cuts a four-character name into is indexed.
        let doc = tokens(&document(&["欧阳明芳"], &[]));
        for t in query("欧阳明芳") {
            assert!(doc.contains(&t.token), "{t:?} in {doc:?}");
        }
    }

    #[test]
    fn domain_words_stay_whole_and_digits_split() {
        let doc = tokens(&document(&[], &["13栋门前雨水井盖缺失，占道经营"]));
        for t in ["13", "栋", "雨水井盖", "井盖", "占道经营"] {
            assert!(doc.contains(t), "{t} in {doc:?}");
        }
    }

    #[test]
    fn queries_fold_segment_and_prefix() {
        let q = query("網格員 13栋");
        let words: Vec<&str> = q.iter().map(|t| t.token.as_str()).collect();
        assert!(
            words.contains(&"网格员") && words.contains(&"13") && words.contains(&"栋"),
            "{q:?}"
        );
        assert!(q.iter().any(|t| t.token == "13" && t.prefix));
        assert_eq!(
            query("LiMin")[0],
            Term {
                token: "limin".into(),
                prefix: true
            }
        );
        assert!(query("  ，。 ").is_empty());
        assert_eq!(
            fts5_query(&query("雨水井盖 lmf")),
            "\"lmf\"* AND \"雨水井盖\""
        );
        assert_eq!(tsquery(&query("雨水井盖 lmf")), "lmf:* & 雨水井盖");
    }
}
