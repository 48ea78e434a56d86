//! The rows of the available-number search tables (`number_suffix`, migration 0011, and
//! `inventory_gram_count`, 0012) computed in the process from a set of numbers, for the
//! rebuild after an import.
//!
//! The statements that hold and release single numbers derive the same rows in SQL
//! (`inventory::offer`, `inventory::hold`); a rebuild of millions of rows does it here
//! instead, because here the suffix rows can be produced in key order cheaply (a sort of
//! fixed-size keys per leading character), and rows written in key order let
//! PostgreSQL's index build find them sorted: a presorted build costs a fifth of a
//! sort of ten million rows.
//!
//! The rules, shared with the SQL: positions count characters; a suffix starts at any
//! position but the first (an E.164 number's +) and is at least three characters long;
//! a three-character string counts once per number, at its first occurrence, which is
//! also the suffix row that has `first` set. Text compares bytewise, as the tables do.

use std::collections::HashMap;

/// One row of `number_suffix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuffixRow<'a> {
    pub country_code: &'a str,
    pub number_type: &'a str,
    pub suffix: &'a str,
    pub phone_number: &'a str,
    pub area_code: &'a str,
    pub first: bool,
}

/// One row of `inventory_gram_count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GramCount<'a> {
    pub country_code: &'a str,
    pub number_type: &'a str,
    pub gram: &'a str,
    pub area_code: &'a str,
    pub available: i64,
}

/// The numbers of one country and type.
struct Group {
    country_code: String,
    number_type: String,
    areas: Vec<String>,
    area_ids: HashMap<String, u32>,
    /// The numbers' text, back to back.
    text: String,
    numbers: Vec<Number>,
}

/// A number of a group: where its text is and its area code.
#[derive(Clone, Copy)]
struct Number {
    start: u32,
    end: u32,
    area: u32,
}

/// A suffix to sort: the number, the suffix's start in the group's text, and the
/// suffix's first sixteen bytes as a big-endian integer (zero-padded), which hold all of
/// an E.164 suffix and so decide every comparison but between equal suffixes.
#[derive(Clone, Copy)]
struct Entry {
    key: u128,
    number: u32,
    start: u32,
}

/// Which suffixes a [`SortedSlice`] holds: those of group `group` (an index into
/// `SearchRows::groups`) that start with byte `lead`.
#[derive(Debug, Clone, Copy)]
pub struct SliceKey {
    group: usize,
    lead: u8,
    len: usize,
}

/// The suffixes of one [`SliceKey`], sorted; [`SearchRows::rows`] turns them into rows.
pub struct SortedSlice {
    group: usize,
    entries: Vec<Entry>,
}

/// Available numbers by country and type, and the search rows they make.
#[derive(Default)]
pub struct SearchRows {
    groups: Vec<Group>,
    /// The group of the last number added: numbers come grouped.
    last: usize,
}

impl SearchRows {
    /// Adds a number (each once). Offsets into a group's text are 32-bit: a group holds
    /// up to some 250 million numbers.
    pub fn add(&mut self, phone_number: &str, country_code: &str, number_type: &str, area: &str) {
        let is = |g: &Group| g.country_code == country_code && g.number_type == number_type;
        let i = match self.groups.get(self.last).filter(|g| is(g)) {
            Some(_) => self.last,
            None => match self.groups.iter().position(is) {
                Some(i) => i,
                None => {
                    self.groups.push(Group {
                        country_code: country_code.to_owned(),
                        number_type: number_type.to_owned(),
                        areas: Vec::new(),
                        area_ids: HashMap::new(),
                        text: String::new(),
                        numbers: Vec::new(),
                    });
                    self.groups.len() - 1
                }
            },
        };
        self.last = i;
        let g = &mut self.groups[i];
        let area = match g.area_ids.get(area) {
            Some(&id) => id,
            None => {
                let id = g.areas.len() as u32;
                g.areas.push(area.to_owned());
                g.area_ids.insert(area.to_owned(), id);
                id
            }
        };
        let start = g.text.len() as u32;
        g.text.push_str(phone_number);
        g.numbers.push(Number {
            start,
            end: g.text.len() as u32,
            area,
        });
    }

    /// How many numbers were added.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.numbers.len()).sum()
    }

    /// The groups' indexes in key order.
    fn sorted_groups(&self) -> Vec<usize> {
        let mut groups: Vec<usize> = (0..self.groups.len()).collect();
        groups.sort_by(|&a, &b| {
            let (a, b) = (&self.groups[a], &self.groups[b]);
            (a.country_code.as_str(), a.number_type.as_str())
                .cmp(&(b.country_code.as_str(), b.number_type.as_str()))
        });
        groups
    }

    /// The rows of `inventory_gram_count`, in key order.
    pub fn gram_counts(&self) -> Vec<GramCount<'_>> {
        let mut out = Vec::new();
        for g in self.sorted_groups().into_iter().map(|i| &self.groups[i]) {
            let mut counts: HashMap<(&str, u32), i64> = HashMap::new();
            for n in &g.numbers {
                let number = &g.text[n.start as usize..n.end as usize];
                for (at, gram) in grams(number) {
                    if first_at(number, gram) == Some(at) {
                        *counts.entry((gram, n.area)).or_default() += 1;
                    }
                }
            }
            let mut rows: Vec<GramCount<'_>> = counts
                .into_iter()
                .map(|((gram, area), available)| GramCount {
                    country_code: &g.country_code,
                    number_type: &g.number_type,
                    gram,
                    area_code: &g.areas[area as usize],
                    available,
                })
                .collect();
            rows.sort_by(|a, b| (a.gram, a.area_code).cmp(&(b.gram, b.area_code)));
            out.extend(rows);
        }
        out
    }

    /// The slices of `number_suffix` in key order: the suffixes of one country and type
    /// that start with one byte each, so that sorting them takes a slice's memory at a
    /// time, and can run on another thread while the previous slice is written.
    pub fn slices(&self) -> Vec<SliceKey> {
        let mut out = Vec::new();
        for group in self.sorted_groups() {
            let g = &self.groups[group];
            let mut leading = [0usize; 256];
            for n in &g.numbers {
                for start in suffix_starts(&g.text, *n) {
                    leading[usize::from(g.text.as_bytes()[start])] += 1;
                }
            }
            for lead in 0..=255u8 {
                let len = leading[usize::from(lead)];
                if len > 0 {
                    out.push(SliceKey { group, lead, len });
                }
            }
        }
        out
    }

    /// The suffixes of a slice, sorted.
    pub fn sort(&self, key: SliceKey) -> SortedSlice {
        let g = &self.groups[key.group];
        let text = g.text.as_bytes();
        let mut entries = Vec::with_capacity(key.len);
        for (i, n) in g.numbers.iter().enumerate() {
            for start in suffix_starts(&g.text, *n) {
                if text[start] == key.lead {
                    let mut head = [0u8; 16];
                    let bytes = &text[start..(start + 16).min(n.end as usize)];
                    head[..bytes.len()].copy_from_slice(bytes);
                    entries.push(Entry {
                        key: u128::from_be_bytes(head),
                        number: i as u32,
                        start: start as u32,
                    });
                }
            }
        }
        // Zero padding sorts a shorter suffix before a longer one it is a prefix of, as
        // bytewise comparison does; equal keys fall back to the full text.
        entries.sort_unstable_by(|a, b| {
            a.key
                .cmp(&b.key)
                .then_with(|| g.suffix(a).cmp(g.suffix(b)))
                .then_with(|| g.number(a).cmp(g.number(b)))
        });
        SortedSlice {
            group: key.group,
            entries,
        }
    }

    /// The rows of a sorted slice, in key order.
    pub fn rows<'a>(&'a self, slice: &SortedSlice) -> impl Iterator<Item = SuffixRow<'a>> {
        let g = &self.groups[slice.group];
        slice.entries.iter().map(move |e| {
            let n = g.numbers[e.number as usize];
            let phone_number = g.number(e);
            let suffix = g.suffix(e);
            let at = (e.start - n.start) as usize;
            let gram = grams(suffix).next().map_or("", |(_, gram)| gram);
            SuffixRow {
                country_code: &g.country_code,
                number_type: &g.number_type,
                suffix,
                phone_number,
                area_code: &g.areas[n.area as usize],
                first: first_at(phone_number, gram) == Some(at),
            }
        })
    }
}

impl Group {
    /// The suffix an entry names.
    fn suffix(&self, e: &Entry) -> &str {
        &self.text[e.start as usize..self.numbers[e.number as usize].end as usize]
    }

    /// The number an entry belongs to.
    fn number(&self, e: &Entry) -> &str {
        let n = self.numbers[e.number as usize];
        &self.text[n.start as usize..n.end as usize]
    }
}

/// Where in `text` the suffixes of number `n` start (byte offsets): every character but
/// the first, while three characters or more remain.
fn suffix_starts(text: &str, n: Number) -> impl Iterator<Item = usize> + '_ {
    let number = &text[n.start as usize..n.end as usize];
    grams(number)
        .skip(1)
        .map(move |(at, _)| n.start as usize + at)
}

/// Every three-character string of `number` with its byte offset, in order.
fn grams(number: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    let mut bounds = number
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(number.len()));
    // The starts of the next three characters; the fourth bound ends the string.
    let (mut a, mut b, mut c) = (bounds.next(), bounds.next(), bounds.next());
    std::iter::from_fn(move || {
        let (start, next, third) = (a?, b?, c?);
        let end = bounds.next()?;
        (a, b, c) = (Some(next), Some(third), Some(end));
        Some((start, &number[start..end]))
    })
}

/// Where `gram` first occurs in `number` (a byte offset). A match of valid UTF-8 in valid
/// UTF-8 starts on a character boundary, so bytes can be compared.
fn first_at(number: &str, gram: &str) -> Option<usize> {
    number
        .as_bytes()
        .windows(gram.len())
        .position(|w| w == gram.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(numbers: &[(&str, &str, &str, &str)]) -> SearchRows {
        let mut r = SearchRows::default();
        for (n, c, t, a) in numbers {
            r.add(n, c, t, a);
        }
        r
    }

    #[test]
    fn suffixes_skip_the_plus_keep_three_characters_and_come_in_key_order() {
        let r = rows(&[
            ("+12125550125", "US", "LOCAL", "212"),
            ("+12125550123", "US", "LOCAL", "212"),
            ("+442079460123", "GB", "LOCAL", "20"),
            ("+18005550199", "US", "TOLLFREE", "800"),
        ]);
        let sorted: Vec<SortedSlice> = r.slices().into_iter().map(|k| r.sort(k)).collect();
        let all: Vec<SuffixRow<'_>> = sorted.iter().flat_map(|s| r.rows(s)).collect();
        // 12 characters: suffixes at positions 2..=10 (1-based); 13: 2..=11.
        assert_eq!(all.len(), 9 + 9 + 10 + 9);
        let keys: Vec<_> = all
            .iter()
            .map(|s| (s.country_code, s.number_type, s.suffix, s.phone_number))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "key order");
        assert!(
            all.iter()
                .all(|s| !s.suffix.starts_with('+') && s.suffix.len() >= 3)
        );
        assert!(
            all.iter()
                .any(|s| s.suffix == "123" && s.phone_number == "+12125550123")
        );
        assert!(
            all.iter()
                .any(|s| s.suffix == "12125550123" && s.area_code == "212")
        );
        assert_eq!(
            (all[0].country_code, all[0].suffix),
            ("GB", "0123"),
            "GB before US, '0' first"
        );
    }

    #[test]
    fn a_string_counts_once_per_number_at_its_first_occurrence() {
        // "212" occurs at positions 3 and 7 (1-based) of +12125212001.
        let r = rows(&[("+12125212001", "US", "LOCAL", "212")]);
        let sorted: Vec<SortedSlice> = r.slices().into_iter().map(|k| r.sort(k)).collect();
        let firsts: Vec<(&str, bool)> = sorted
            .iter()
            .flat_map(|s| r.rows(s))
            .filter(|s| s.suffix.starts_with("212"))
            .map(|s| (s.suffix, s.first))
            .collect();
        assert_eq!(firsts, [("212001", false), ("2125212001", true)]);
        let counts = r.gram_counts();
        let count = |gram: &str| {
            counts
                .iter()
                .find(|c| c.gram == gram)
                .map_or(0, |c| c.available)
        };
        assert_eq!(count("212"), 1);
        assert_eq!(count("+12"), 1, "the first three characters include the +");
        assert_eq!(count("001"), 1);
        // 10 three-character strings, "212" twice.
        assert_eq!(counts.len(), 9);
    }

    #[test]
    fn gram_counts_are_per_area() {
        let r = rows(&[
            ("+12125550123", "US", "LOCAL", "212"),
            ("+12125550124", "US", "LOCAL", "212"),
            ("+14155550123", "US", "LOCAL", "415"),
        ]);
        let counts = r.gram_counts();
        let of = |gram: &str| -> Vec<(&str, i64)> {
            counts
                .iter()
                .filter(|c| c.gram == gram)
                .map(|c| (c.area_code, c.available))
                .collect()
        };
        assert_eq!(of("555"), [("212", 2), ("415", 1)]);
        assert_eq!(of("123"), [("212", 1), ("415", 1)]);
        assert_eq!(of("124"), [("212", 1)]);
    }
}
