//! Small server-rendered SVG charts: bar charts (one series, grouped or stacked) and a matrix of
//! numbers. Each has a `<title>` and `<desc>` for screen readers (`role="img"` with
//! `aria-labelledby`), labelled axes, and values written on or beside the marks, so colour is
//! never the only signal; pages put the numbers in a table beside the chart as well.
//!
//! Written by hand rather than with a plotting library: the four charts need a few dozen lines
//! of SVG each, and `plotters` (the well-kept choice) neither emits `<title>`/`<desc>`/ARIA nor
//! lets text be styled by our stylesheet, which the accessibility rules of `ui.md` require.

use std::fmt::Write;

/// Colours of the series, chosen to be told apart in greyscale and by colour-blind readers
/// (Okabe-Ito palette).
const PALETTE: [&str; 6] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
];

/// Escapes text for SVG/XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A short number for axes and labels: 1234567 as `1.2M`.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// One named series of a bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// A bar chart over categories (months, years, buckets).
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Used as the element id prefix; must be unique on the page.
    pub id: String,
    pub title: String,
    pub desc: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// Stack the series (totals) instead of grouping them side by side.
    pub stacked: bool,
}

const W: f64 = 720.0;
const H: f64 = 340.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
// Room below the plot for slanted category labels, at the larger size a phone draws them.
const BOTTOM: f64 = 125.0;

fn open(out: &mut String, id: &str, title: &str, desc: &str, height: f64) {
    let id = esc(id);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {W} {height}" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    );
}

impl BarChart {
    /// The chart as an SVG element.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let legend_h = if self.series.len() > 1 { 24.0 } else { 0.0 };
        open(&mut out, &self.id, &self.title, &self.desc, H + legend_h);
        let n = self.categories.len().max(1);
        let max = (0..self.categories.len())
            .map(|i| {
                let vals = self
                    .series
                    .iter()
                    .map(|s| s.values.get(i).copied().unwrap_or(0.0));
                if self.stacked {
                    vals.sum()
                } else {
                    vals.fold(0.0, f64::max)
                }
            })
            .fold(0.0, f64::max);
        let max = if max > 0.0 { max } else { 1.0 };
        let plot_w = W - LEFT - RIGHT;
        let plot_h = H - TOP - BOTTOM;
        let y = |v: f64| TOP + plot_h - v / max * plot_h;
        // Axes, four grid lines with their values, and the axis labels.
        for k in 0..=4 {
            let v = max * f64::from(k) / 4.0;
            let _ = write!(
                out,
                r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ccc"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
                W - RIGHT,
                LEFT - 6.0,
                y(v) + 4.0,
                short(v),
                y = y(v)
            );
        }
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{}" stroke="#333"/><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle" font-size="12">{}</text><text x="{}" y="{}" text-anchor="middle" font-size="12">{}</text>"##,
            TOP + plot_h,
            TOP + plot_h / 2.0,
            TOP + plot_h / 2.0,
            esc(&self.y_label),
            LEFT + plot_w / 2.0,
            H - 6.0,
            esc(&self.x_label)
        );
        let slot = plot_w / n as f64;
        let groups = if self.stacked {
            1
        } else {
            self.series.len().max(1)
        };
        // A lone category should not become one wall-to-wall bar.
        let bar_w = ((slot * 0.8) / groups as f64).min(48.0);
        let group_w = bar_w * groups as f64;
        // Label every category when they fit, else every k-th.
        let every = (n as f64 / 24.0).ceil().max(1.0) as usize;
        for (i, cat) in self.categories.iter().enumerate() {
            let x0 = LEFT + slot * (i as f64 + 0.5) - group_w / 2.0;
            let mut base = 0.0;
            for (s, series) in self.series.iter().enumerate() {
                let v = series.values.get(i).copied().unwrap_or(0.0);
                if v <= 0.0 {
                    continue;
                }
                let (x, top, bottom) = if self.stacked {
                    let r = (x0, y(base + v), y(base));
                    base += v;
                    r
                } else {
                    (x0 + bar_w * s as f64, y(v), y(0.0))
                };
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {}, {}</title></rect>"#,
                    bar_w.max(1.0),
                    (bottom - top).max(0.5),
                    PALETTE[s % PALETTE.len()],
                    esc(cat),
                    esc(&series.name),
                    short(v)
                );
            }
            if i % every == 0 {
                let cx = LEFT + slot * (i as f64 + 0.5);
                let ly = TOP + plot_h + 14.0;
                let _ = write!(
                    out,
                    r#"<text x="{cx:.1}" y="{ly:.1}" text-anchor="end" font-size="11" transform="rotate(-35 {cx:.1} {ly:.1})">{}</text>"#,
                    esc(cat)
                );
            }
        }
        if self.series.len() > 1 {
            let mut x = LEFT;
            for (s, series) in self.series.iter().enumerate() {
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
                    H + legend_h - 18.0,
                    PALETTE[s % PALETTE.len()],
                    x + 16.0,
                    H + legend_h - 8.0,
                    esc(&series.name)
                );
                // Room for the name at the larger size a phone's stylesheet draws it (`app.css`).
                x += 28.0 + 12.0 * series.name.chars().count() as f64;
            }
        }
        out.push_str("</svg>");
        out
    }
}

/// A matrix of numbers (rows → columns), each cell shaded by its share of the largest value and
/// labelled with the number itself.
pub fn matrix(
    id: &str,
    title: &str,
    desc: &str,
    row_label: &str,
    col_label: &str,
    labels: &[&str],
    values: &[Vec<u64>],
) -> String {
    let n = labels.len().max(1) as f64;
    let cell = ((W - 140.0) / n).min(110.0);
    let height = 64.0 + cell * n + 20.0;
    let mut out = String::new();
    open(&mut out, id, title, desc, height);
    let max = values.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let (x0, y0) = (130.0, 64.0);
    let _ = write!(
        out,
        r#"<text x="{}" y="14" text-anchor="middle" font-size="12">{}</text><text x="8" y="{}" font-size="12">{}</text>"#,
        x0 + cell * n / 2.0,
        esc(col_label),
        y0 - 8.0,
        esc(row_label)
    );
    for (j, l) in labels.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12">{}</text>"#,
            x0 + cell * (j as f64 + 0.5),
            y0 - 24.0,
            esc(l)
        );
    }
    for (i, row) in values.iter().enumerate() {
        let y = y0 + cell * i as f64;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12">{}</text>"#,
            x0 - 8.0,
            y + cell / 2.0 + 4.0,
            esc(labels.get(i).copied().unwrap_or_default())
        );
        for (j, v) in row.iter().enumerate() {
            let share = *v as f64 / max;
            // Dark cells get white text so the number stays readable (contrast, not colour).
            let text = if share > 0.5 { "#fff" } else { "#111" };
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{y:.1}" width="{cell:.1}" height="{cell:.1}" fill="#0072B2" fill-opacity="{:.2}" stroke="#999"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="{text}">{}</text>"##,
                x0 + cell * j as f64,
                0.05 + 0.95 * share,
                x0 + cell * (j as f64 + 0.5),
                y + cell / 2.0 + 4.0,
                short(*v as f64)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(stacked: bool) -> BarChart {
        BarChart {
            id: "monthly".into(),
            title: "Addresses transferred per month".into(),
            desc: "Stacked by source registry <all>".into(),
            x_label: "Month".into(),
            y_label: "IPv4 addresses".into(),
            categories: vec!["2026-10".into(), "2026-11".into()],
            series: vec![
                Series {
                    name: "ARIN".into(),
                    values: vec![1024.0, 0.0],
                },
                Series {
                    name: "RIPE NCC".into(),
                    values: vec![256.0, 4096.0],
                },
            ],
            stacked,
        }
    }

    #[test]
    fn bar_charts_are_accessible_svg() {
        let svg = chart(true).render();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(r#"role="img" aria-labelledby="monthly-title monthly-desc""#));
        assert!(
            svg.contains("<title id=\"monthly-title\">Addresses transferred per month</title>")
        );
        assert!(
            svg.contains("Stacked by source registry &lt;all&gt;"),
            "escaped"
        );
        assert!(svg.contains(">IPv4 addresses</text>") && svg.contains(">Month</text>"));
        // One mark per non-zero value, each with its number; a legend for two series.
        assert_eq!(svg.matches("<rect x=").count(), 3 + 2);
        assert!(svg.contains("<title>2026-11: RIPE NCC, 4096</title>"));
        assert!(svg.ends_with("</svg>"));
        // Grouped bars are narrower than stacked ones but show the same marks.
        let grouped = chart(false).render();
        assert_eq!(grouped.matches("<rect x=").count(), 5);
    }

    #[test]
    fn an_empty_chart_still_renders() {
        let mut c = chart(false);
        c.categories.clear();
        c.series.clear();
        let svg = c.render();
        assert!(svg.contains("<title id=\"monthly-title\">"));
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn matrices_label_every_cell_with_its_number() {
        let svg = matrix(
            "flows",
            "Flows",
            "Addresses from row to column",
            "from",
            "to",
            &["ARIN", "RIPE NCC"],
            &[vec![0, 1024], vec![256, 0]],
        );
        assert!(svg.contains(">1024</text>") && svg.contains(">256</text>"));
        assert_eq!(svg.matches("<rect").count(), 4);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(short(1_234_567.0), "1.2M");
        assert_eq!(short(45_000.0), "45k");
        assert_eq!(short(1024.0), "1024");
        assert_eq!(short(45.5), "45.50");
    }
}
