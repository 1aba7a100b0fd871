//! A landlord's facts and catalogue as an import file (JSON Lines) of about N records: for the
//! import bench, and for any bench that wants a store filled the way a landlord fills it.
//!
//! Of every 100 records: 20 rental objects (3 spaces each), 25 tenants, 20 tenancies (every
//! fourth with a co-tenant), 10 debts, 14 fees and 10 payments, with the catalogue (10
//! properties × 10 categories × 10 options = 1,110 records) taken off the top.

use std::fmt::Write;

/// The records of a landlord with about `records` of them (at least the catalogue's 1,110),
/// every one at `version`.
pub fn landlord(records: usize, version: u64) -> String {
    let mut out = String::with_capacity(records * 260);
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    for p in 0..10 {
        line(format!(
            r#"{{"type":"property","id":"fast-{p}","version":{version},"name":"Fastighet {p}","currency":"SEK"}}"#
        ));
        for c in 0..10 {
            line(format!(
                r#"{{"type":"category","id":"kat-{c}","version":{version},"property":"fast-{p}","name":"Kategori {c}","position":{c}}}"#
            ));
            for o in 0..10 {
                let space = ["kok", "badrum", "hall"][o % 3];
                line(format!(
                    r#"{{"type":"option","id":"val-{c}-{o}","version":{version},"property":"fast-{p}","category":"kat-{c}","space":"{space}","name":"Tillval {c}.{o}","description":"Ett tillval i kategori {c}.","monthly_price":{},"one_time_fee":{},"currency":"SEK","unit":"{}","max":{},"position":{o},"pictures":[{{"thumbnail":"https://bilder.example/{c}-{o}-liten.jpg","large":"https://bilder.example/{c}-{o}.jpg","alt":"Tillval {c}.{o}"}}]}}"#,
                    4_900 + 100 * o,
                    if o % 2 == 0 { 50_000 } else { 0 },
                    if o % 4 == 0 { "piece" } else { "single" },
                    if o % 4 == 0 { 3 } else { 1 }
                ));
            }
        }
    }
    let hundreds = records.saturating_sub(1_110) / 100;
    for h in 0..hundreds {
        for i in 0..20 {
            let n = h * 20 + i;
            line(format!(
                r#"{{"type":"rental_object","id":"lgh-{n}","version":{version},"property":"fast-{}","address":"Storgatan {n}","building_year":1968,"rooms":3,"area_sqm":74,"spaces":[{{"id":"kok","name":"Kök"}},{{"id":"badrum","name":"Badrum"}},{{"id":"hall","name":"Hall"}}]}}"#,
                n % 10
            ));
        }
        for i in 0..25 {
            let n = h * 25 + i;
            line(format!(
                r#"{{"type":"tenant","id":"hg-{n}","version":{version},"name":"Hyresgäst {n}"}}"#
            ));
        }
        for i in 0..20 {
            let object = h * 20 + i;
            let holder = h * 25 + i;
            let mut tenants = format!(r#""hg-{holder}""#);
            if i % 4 == 0 {
                let _ = write!(tenants, r#","hg-{}""#, h * 25 + 20 + i / 4);
            }
            line(format!(
                r#"{{"type":"tenancy","id":"kontrakt-{object}","version":{version},"rental_object":"lgh-{object}","tenants":[{tenants}]}}"#
            ));
        }
        for i in 0..10 {
            let tenant = h * 25 + i * 2;
            line(format!(
                r#"{{"type":"debt","id":"hg-{tenant}","version":{version},"amount":{},"currency":"SEK"}}"#,
                if i % 3 == 0 { 125_000 } else { 0 }
            ));
        }
        for i in 0..14 {
            let object = h * 20 + i;
            let tenant = h * 25 + i;
            line(format!(
                r#"{{"type":"fee","id":"avgift-{h}-{i}","version":{version},"tenant":"hg-{tenant}","rental_object":"lgh-{object}","property":"fast-{}","option":"val-{}-0","amount":50000,"currency":"SEK","booked_at":"2026-10-01T00:00:00Z"}}"#,
                object % 10,
                i % 10
            ));
        }
        for i in 0..10 {
            line(format!(
                r#"{{"type":"payment","id":"bet-{h}-{i}","version":{version},"fee":"avgift-{h}-{i}","amount":{},"currency":"SEK","paid_at":"2026-11-01T00:00:00Z"}}"#,
                if i % 2 == 0 { 50_000 } else { 20_000 }
            ));
        }
    }
    out
}
