//! The statistics page: flows between registries, transfers per month, durations and (for
//! auditors) prices, each chart with the table of its numbers. Everything but the layout is
//! rendered once per state of the ledger (`web::cache`): drawing the charts, mostly formatting
//! their coordinates, was most of a view's time.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::domain::Rir;
use crate::domain::authz::{Action, Role};
use crate::domain::charts::{self, BarChart, Series};
use crate::domain::format::group_thousands;
use crate::domain::statistics::{DURATION_BUCKETS, SIZE_CLASSES, TransferStatistics};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::auth::SignedIn;
use crate::web::page::{Chrome, render, render_part};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/stats", get(stats_page))
}

/// One chart with the table of its numbers.
struct ChartBlock {
    svg: String,
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
    caption: String,
}

/// The page's figures, charts and tables, without the layout.
#[derive(Template)]
#[template(path = "pages/audit/stats_figures.html")]
struct Figures {
    total: String,
    flows: ChartBlock,
    monthly: ChartBlock,
    durations: ChartBlock,
    median_days: Option<i64>,
    /// `None` unless the viewer is an auditor.
    prices: Option<Vec<ChartBlock>>,
}

#[derive(Template)]
#[template(path = "pages/audit/stats.html")]
struct StatsPage {
    chrome: Chrome,
    /// [`Figures`], rendered.
    figures: Arc<String>,
}

/// Months the monthly chart shows at most (the most recent ones).
const MONTHS: usize = 24;

async fn stats_page(
    State(app): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> Result<Html<String>, AppError> {
    viewer.require(Action::ViewLedger)?;
    let auditor = viewer.actor.role == Role::Auditor;
    // The ledger's head as read with the session, when it was.
    let head = viewer.freshness.as_ref().map(|f| f.contents.ledger());
    render(&StatsPage {
        figures: figures_html(&app, head, auditor).await?,
        chrome: viewer.chrome(&app).await?,
    })
}

/// The figures as HTML, from the cache when the ledger's head (read now unless given) has not
/// changed since they were made.
async fn figures_html(
    app: &AppState,
    head: Option<crate::web::cache::LedgerKey>,
    auditor: bool,
) -> Result<Arc<String>, AppError> {
    crate::web::cache::statistics_page(app, head, auditor, |s| render_part(&figures(s, auditor)))
        .await
}

/// Computes both versions of the figures (auditors' with prices, and everyone else's).
pub(super) async fn warm(app: &AppState) -> Result<(), AppError> {
    for auditor in [true, false] {
        figures_html(app, None, auditor).await?;
    }
    Ok(())
}

/// The figures of `s`; prices only for auditors.
fn figures(s: &TransferStatistics, auditor: bool) -> Figures {
    let names: Vec<&str> = Rir::ALL.iter().map(|r| r.nro_name()).collect();

    let flows = ChartBlock {
        svg: charts::matrix(
            "flows",
            "IPv4 addresses transferred between registries",
            "A matrix: each row is the source registry, each column the recipient registry, each \
             cell the number of addresses moved; the diagonal holds transfers within a registry.",
            "from (source)",
            "to (recipient)",
            &names,
            &s.flows.iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        ),
        head: names.iter().map(|n| (*n).to_owned()).collect(),
        rows: Rir::ALL
            .iter()
            .zip(s.flows.iter())
            .map(|(r, row)| {
                (
                    r.nro_name().to_owned(),
                    row.iter().map(|v| group_thousands(*v)).collect(),
                )
            })
            .collect(),
        caption: "Addresses from the row's registry to the column's registry".into(),
    };

    let months: Vec<(&String, &[u64; 5])> = s
        .monthly
        .iter()
        .rev()
        .take(MONTHS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let monthly = ChartBlock {
        svg: BarChart {
            id: "monthly".into(),
            title: "IPv4 addresses transferred per month".into(),
            desc: format!(
                "Stacked bars, one per month for the last {} months with transfers, each split by \
                 source registry.",
                months.len()
            ),
            x_label: "Month".into(),
            y_label: "IPv4 addresses".into(),
            categories: months.iter().map(|(m, _)| (*m).clone()).collect(),
            series: Rir::ALL
                .iter()
                .enumerate()
                .map(|(i, r)| Series {
                    name: r.nro_name().into(),
                    values: months.iter().map(|(_, v)| v[i] as f64).collect(),
                })
                .collect(),
            stacked: true,
        }
        .render(),
        head: names.iter().map(|n| (*n).to_owned()).collect(),
        rows: months
            .iter()
            .map(|(m, v)| {
                (
                    (*m).clone(),
                    v.iter().map(|x| group_thousands(*x)).collect(),
                )
            })
            .collect(),
        caption: "Addresses transferred per month, by source registry".into(),
    };

    let durations = ChartBlock {
        svg: BarChart {
            id: "durations".into(),
            title: "Time from filing to completion".into(),
            desc: "Bars: how many transfers completed in ipxfer took each span of days.".into(),
            x_label: "Days from filing to completion".into(),
            y_label: "Transfers".into(),
            categories: DURATION_BUCKETS
                .iter()
                .map(|(l, _)| (*l).to_owned())
                .collect(),
            series: vec![Series {
                name: "Transfers".into(),
                values: s.durations.iter().map(|v| *v as f64).collect(),
            }],
            stacked: false,
        }
        .render(),
        head: vec!["Transfers".into()],
        rows: DURATION_BUCKETS
            .iter()
            .zip(s.durations.iter())
            .map(|((l, _), v)| ((*l).to_owned(), vec![group_thousands(*v)]))
            .collect(),
        caption: "Completed transfers by time from filing to completion".into(),
    };

    let prices = auditor.then(|| {
        let points = s.prices();
        let mut currencies: Vec<String> = points.iter().map(|p| p.currency.clone()).collect();
        currencies.sort();
        currencies.dedup();
        currencies
            .into_iter()
            .map(|currency| {
                let mine: Vec<_> = points.iter().filter(|p| p.currency == currency).collect();
                let mut years: Vec<i32> = mine.iter().map(|p| p.year).collect();
                years.sort_unstable();
                years.dedup();
                let value = |year: i32, class: &str| {
                    mine.iter()
                        .find(|p| p.year == year && p.size_class == class)
                        .map(|p| p.mean_per_address)
                };
                ChartBlock {
                    svg: BarChart {
                        id: format!("prices-{}", currency.to_lowercase()),
                        title: format!("Price per address in {currency}, by year and block size"),
                        desc: "Grouped bars: for each year, the mean agreed price per address of \
                               completed transfers, one bar per block size."
                            .into(),
                        x_label: "Year of completion".into(),
                        y_label: format!("{currency} per address"),
                        categories: years.iter().map(ToString::to_string).collect(),
                        series: SIZE_CLASSES
                            .iter()
                            .map(|class| Series {
                                name: (*class).to_owned(),
                                values: years
                                    .iter()
                                    .map(|y| {
                                        value(*y, class)
                                            .and_then(|d| d.to_string().parse().ok())
                                            .unwrap_or(0.0)
                                    })
                                    .collect(),
                            })
                            .collect(),
                        stacked: false,
                    }
                    .render(),
                    head: SIZE_CLASSES.iter().map(|c| (*c).to_owned()).collect(),
                    rows: years
                        .iter()
                        .map(|y| {
                            (
                                y.to_string(),
                                SIZE_CLASSES
                                    .iter()
                                    .map(|c| {
                                        mine.iter()
                                            .find(|p| p.year == *y && p.size_class == *c)
                                            .map_or("–".to_owned(), |p| {
                                                format!(
                                                    "{currency} {} ({} transfers)",
                                                    p.mean_per_address, p.transfers
                                                )
                                            })
                                    })
                                    .collect(),
                            )
                        })
                        .collect(),
                    caption: format!("Mean price per address in {currency}"),
                }
            })
            .collect()
    });

    Figures {
        total: group_thousands(s.total_moved()),
        flows,
        monthly,
        durations,
        median_days: s.median_days(),
        prices,
    }
}
