//! What a question asks, parsed from its folded words with no IO: the measure (units sold, a
//! ranking, the run-out day, days of cover, when to buy, the price ahead, who changed what, the
//! supplier) or the stock movement to propose (a receipt, a sale, a count, a refill cancelled or
//! received), and its period. Which products it names is linked by the interpreter against the
//! tenant's catalogue; the older kinds of question (stock, refills, forecast, ...) are still
//! told apart by [`super::interpreter`].

use super::period::{self, DateRange};
use super::text::{has_any, has_prefix};
use crate::tools::insight::RankOrder;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A measure asked about, or a change to propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "ask")]
pub enum Ask {
    UnitsSold,
    DailyAverage,
    Rank { order: RankOrder },
    RunOut,
    DaysOfCover,
    WhenToBuy,
    PriceAhead,
    WhoChanged,
    Supplier,
    Propose { change: Change },
}

impl Ask {
    /// Asks that are about one product and mean nothing without one.
    pub fn needs_product(self) -> bool {
        matches!(
            self,
            Self::WhenToBuy | Self::PriceAhead | Self::WhoChanged | Self::Supplier
        ) || matches!(self, Self::Propose { change } if change.needs_product())
    }
}

/// A stock movement asked for in chat: only ever proposed, a manager confirms it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum Change {
    Receive { quantity: i64 },
    Sale { quantity: i64 },
    Count { counted: i64 },
    CancelRefill,
    ReceiveRefill { quantity: Option<i64> },
}

impl Change {
    fn needs_product(self) -> bool {
        matches!(
            self,
            Self::Receive { .. } | Self::Sale { .. } | Self::Count { .. }
        )
    }
}

/// One parsed question.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub ask: Ask,
    pub period: Option<DateRange>,
    /// "top 3", "5 best sellers".
    pub limit: Option<usize>,
}

/// Words that make a sentence a question rather than a statement ("how many did we sell?" is
/// not "we sold 3").
const QUESTION: &[&str] = &[
    "how", "what", "which", "did", "does", "quanto", "quantos", "quantas", "qual", "quais",
    "quando", "when",
];

const SOLD: &[&str] = &["sold", "sell", "sale", "vend"];

fn sells(words: &[String]) -> bool {
    words.iter().any(|w| {
        (SOLD.iter().any(|p| w.starts_with(p)) && !w.starts_with("vendor"))
            || w.contains("seller")
            // Typed in a hurry: "sel", "seel", "solds".
            || matches!(w.as_str(), "sel" | "seel" | "sels" | "sould" | "solds" | "vendmos")
    })
}

/// A number of units in the question that is not part of a date, a period or a limit.
fn quantity(words: &[String]) -> Option<i64> {
    super::text::first_number(words).filter(|&n| n > 0)
}

/// What the question asks among the kinds this module knows; `None` leaves it to the older
/// intents (stock, refills, forecast, movements, orders and minimums).
pub fn parse(words: &[String], today: NaiveDate) -> Option<Query> {
    let ask = ask(words)?;
    let limit = limit(words);
    Some(Query {
        ask,
        period: period::parse(words, today),
        limit,
    })
}

fn limit(words: &[String]) -> Option<usize> {
    words.windows(2).find_map(|w| {
        let n = w[1].parse::<usize>().ok().filter(|n| (1..=50).contains(n));
        match w[0].as_str() {
            "top" | "best" | "worst" | "bottom" | "melhores" | "piores" | "os" | "as" => n,
            _ => None,
        }
    })
}

fn ask(w: &[String]) -> Option<Ask> {
    let question = has_any(w, QUESTION);
    let refill = has_prefix(
        w,
        &[
            "refill",
            "order",
            "pedido",
            "encomenda",
            "reposic",
            "compra",
            "purchase",
            "delivery",
            "entrega",
        ],
    );
    let n = quantity(w);

    // Changes, proposed only.
    if has_any(
        w,
        &[
            "cancel", "cancele", "cancelar", "cancela", "cancelem", "anule", "anular", "stop",
            "desista",
        ],
    ) {
        return Some(Ask::Propose {
            change: Change::CancelRefill,
        });
    }
    if let Some(counted) = n {
        // "set coffee stock to 40", "acertar o estoque do leite para 25": a count, unless it
        // is the minimum being set.
        let adjust = (has_prefix(w, &["adjust", "ajust", "acert", "correct", "corrig"])
            || (has_any(w, &["set", "defina", "definir", "coloque"])
                && has_any(w, &["stock", "estoque", "inventory"])))
            && !has_prefix(w, &["minim", "reorder"]);
        if adjust
            || has_prefix(
                w,
                &[
                    "count", "contamos", "contei", "contagem", "contad", "recont",
                ],
            )
            || (has_any(w, &["actually", "really", "verdade"])
                && has_any(w, &["there", "are", "ha", "temos"]))
        {
            return Some(Ask::Propose {
                change: Change::Count { counted },
            });
        }
    }
    let receive_verb = has_any(
        w,
        &[
            "receive", "receba", "receber", "recebe", "recebam", "mark", "marque", "dar", "entrada",
        ],
    );
    let received = has_prefix(
        w,
        &[
            "receiv",
            "receb",
            "chegar",
            "chegou",
            "chegaram",
            "arrived",
            "delivered",
            "got",
            "entreg",
        ],
    );
    // "pedidos recebidos" lists received refills; "chegaram 10 do pedido" and "the coffee
    // delivery arrived" report one.
    let arrived = has_any(
        w,
        &[
            "arrived",
            "came",
            "chegou",
            "chegaram",
            "delivered",
            "entregue",
        ],
    );
    if refill && (receive_verb || ((received && n.is_some()) || arrived) && !question) {
        return Some(Ask::Propose {
            change: Change::ReceiveRefill { quantity: n },
        });
    }
    if let Some(quantity) = n {
        if (receive_verb || received) && !question {
            return Some(Ask::Propose {
                change: Change::Receive { quantity },
            });
        }
        let record = has_any(
            w,
            &[
                "record",
                "register",
                "registre",
                "registrar",
                "registra",
                "registe",
                "log",
                "add",
                "lance",
                "lancar",
                "lanca",
                "anote",
                "anotar",
            ],
        );
        let statement = has_any(
            w,
            &[
                "sold", "vendemos", "vendi", "vendeu", "vendeste", "vendido", "vendidos",
            ],
        ) && !question;
        if sells(w) && (record || statement) {
            return Some(Ask::Propose {
                change: Change::Sale { quantity },
            });
        }
    }

    // Measures.
    let who = has_any(w, &["who", "whom", "quem"]);
    if has_prefix(
        w,
        &[
            "supplier",
            "suppl",
            "fornec",
            "vendor",
            "provider",
            "provid",
            "distribuid",
        ],
    ) || (who && (sells(w) || has_prefix(w, &["buy", "compr", "vend"])))
    {
        return Some(Ask::Supplier);
    }
    if who
        || (has_prefix(w, &["chang", "alter", "mud", "mexeu", "mexer"])
            && has_any(w, &["what", "que"]))
        || has_prefix(w, &["timeline", "audit", "historico"])
    {
        return Some(Ask::WhoChanged);
    }
    let runs_out = (has_any(w, &["run", "runs", "running", "ran"]) && has_any(w, &["out"]))
        || has_prefix(
            w,
            &[
                "esgot", "acab", "stockout", "zerar", "zera", "faltar", "falte",
            ],
        )
        || (has_any(w, &["out"])
            && has_any(w, &["of"])
            && has_any(w, &["stock"])
            && has_any(w, &["will", "going", "when"]))
        || (has_any(w, &["ficar", "fica", "ficaremos", "ficamos"]) && has_any(w, &["sem"]));
    let how_many_days = has_any(w, &["how", "quantos", "quantas"]) && has_any(w, &["days", "dias"]);
    // "do we have enough milk for the week?", "will the bread last until friday?": cover.
    if has_any(w, &["enough", "suficiente", "aguenta", "aguentar"])
        || (has_any(w, &["will", "vai"]) && has_prefix(w, &["last", "dur"]))
    {
        return Some(Ask::DaysOfCover);
    }
    if runs_out && !how_many_days {
        return Some(Ask::RunOut);
    }
    if has_any(w, &["days", "dias", "cover", "cobertura"])
        && (has_any(
            w,
            &[
                "left",
                "cover",
                "last",
                "lasts",
                "sobram",
                "restam",
                "resta",
                "dura",
                "duram",
                "durar",
                "enough",
                "cobertura",
                "suficiente",
                "have",
                "temos",
                "tem",
            ],
        ) || runs_out)
        && !sells(w)
        && !(has_any(w, &["last", "past", "ultimos", "ultimas"])
            && w.iter().any(|x| x.parse::<i64>().is_ok()))
    {
        return Some(Ask::DaysOfCover);
    }
    if (has_any(w, &["how", "quanto"])
        && has_any(w, &["long", "tempo"])
        && has_prefix(w, &["last", "dur"]))
        || (has_any(w, &["when", "quando", "until", "ate"]) && has_prefix(w, &["dur", "lasts"]))
        || has_prefix(w, &["cobertura"])
    {
        return Some(Ask::DaysOfCover);
    }
    let buy = has_prefix(
        w,
        &[
            "buy",
            "purchas",
            "compr",
            "encomend",
            "restock",
            "repor",
            "reabastec",
            "pedir",
            "order",
            "reorder",
            "reabastecer",
        ],
    );
    if (has_any(w, &["when", "quando"]) && buy)
        || (has_any(
            w,
            &["best", "melhor", "cheapest", "barato", "good", "bom", "boa"],
        ) && has_any(w, &["day", "dia", "time", "hora", "momento"]))
        || has_any(
            w,
            &[
                "should",
                "devo",
                "deveria",
                "vale",
                "need",
                "precisa",
                "preciso",
                "precisamos",
            ],
        ) && buy
    {
        return Some(Ask::WhenToBuy);
    }
    if has_prefix(
        w,
        &[
            "price", "preco", "cost", "custo", "custa", "custar", "custara",
        ],
    ) {
        return Some(Ask::PriceAhead);
    }
    // "top 5 products this month", "our slowest movers": a ranking by units sold.
    let ranked_items = has_any(
        w,
        &[
            "products", "items", "produtos", "itens", "product", "produto",
        ],
    ) && has_any(w, &["top", "best", "worst", "bottom", "melhores", "piores"]);
    let sold = sells(w)
        || has_any(
            w,
            &[
                "sellers",
                "seller",
                "moving",
                "mover",
                "movers",
                "saida",
                "encalhado",
                "encalhados",
                "parados",
            ],
        )
        || ranked_items;
    if sold {
        let worst = has_any(
            w,
            &[
                "worst",
                "least",
                "menos",
                "pior",
                "piores",
                "slowest",
                "lowest",
                "fewest",
                "bottom",
                "slow",
                "parado",
                "parados",
                "encalhado",
                "encalhados",
            ],
        );
        let best = has_any(
            w,
            &[
                "best",
                "top",
                "most",
                "mais",
                "melhor",
                "melhores",
                "campeao",
                "campeoes",
                "bestseller",
                "bestsellers",
                "popular",
                "fastest",
            ],
        );
        if worst {
            return Some(Ask::Rank {
                order: RankOrder::Bottom,
            });
        }
        if best {
            return Some(Ask::Rank {
                order: RankOrder::Top,
            });
        }
        if has_any(
            w,
            &[
                "average",
                "media",
                "daily",
                "diaria",
                "diario",
                "diariamente",
                "typically",
                "normally",
                "usually",
                "normalmente",
            ],
        ) || w.windows(2).any(|p| {
            matches!(
                (p[0].as_str(), p[1].as_str()),
                ("per" | "a" | "por" | "ao" | "each" | "every", "day" | "dia")
            )
        }) {
            return Some(Ask::DailyAverage);
        }
        // "movements"/"entradas" stay with the movements of the older intents.
        if !has_prefix(w, &["moviment", "movement"]) {
            return Some(Ask::UnitsSold);
        }
    }
    None
}

/// Words of the questions this module parses that never name a product ("which products will
/// run out this week?" names none).
pub fn is_query_word(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "will",
        "would",
        "going",
        "run",
        "runs",
        "running",
        "ran",
        "out",
        "vai",
        "vao",
        "iremos",
        "acabar",
        "acaba",
        "acabam",
        "acabou",
        "esgotar",
        "esgota",
        "esgotam",
        "esgotou",
        "faltar",
        "sell",
        "sells",
        "selling",
        "sold",
        "seller",
        "sellers",
        "sale",
        "sales",
        "vendas",
        "vendeu",
        "vendemos",
        "vendidos",
        "vendidas",
        "vendido",
        "vendida",
        "vender",
        "vendi",
        "best",
        "worst",
        "top",
        "bottom",
        "most",
        "least",
        "mais",
        "menos",
        "melhor",
        "melhores",
        "pior",
        "piores",
        "fewest",
        "lowest",
        "slowest",
        "fastest",
        "popular",
        "moving",
        "average",
        "media",
        "daily",
        "diaria",
        "diario",
        "per",
        "day",
        "dia",
        "dias",
        "days",
        "week",
        "weeks",
        "semana",
        "semanas",
        "month",
        "months",
        "mes",
        "meses",
        "year",
        "ano",
        "this",
        "esta",
        "este",
        "nesta",
        "neste",
        "essa",
        "esse",
        "nessa",
        "nesse",
        "current",
        "last",
        "past",
        "previous",
        "ultimo",
        "ultima",
        "ultimos",
        "ultimas",
        "passado",
        "passada",
        "anterior",
        "next",
        "proximo",
        "proxima",
        "proximos",
        "proximas",
        "coming",
        "since",
        "desde",
        "from",
        "until",
        "ate",
        "ago",
        "atras",
        "yesterday",
        "ontem",
        "today",
        "hoje",
        "tomorrow",
        "amanha",
        "cover",
        "cobertura",
        "long",
        "lasts",
        "dura",
        "duram",
        "durar",
        "enough",
        "suficiente",
        "sobram",
        "restam",
        "resta",
        "left",
        "when",
        "quando",
        "should",
        "devo",
        "deveria",
        "buy",
        "comprar",
        "compro",
        "purchase",
        "restock",
        "repor",
        "price",
        "prices",
        "preco",
        "precos",
        "cost",
        "costs",
        "custo",
        "custa",
        "custar",
        "custara",
        "expected",
        "esperado",
        "who",
        "quem",
        "changed",
        "change",
        "changes",
        "mudou",
        "alterou",
        "mexeu",
        "definiu",
        "set",
        "supplier",
        "suppliers",
        "supplies",
        "supply",
        "fornecedor",
        "fornecedores",
        "fornece",
        "vendor",
        "provider",
        "sold",
        "total",
        "units",
        "unidades",
        "receive",
        "receba",
        "receber",
        "recebemos",
        "received",
        "record",
        "register",
        "registre",
        "registrar",
        "log",
        "add",
        "counted",
        "count",
        "contamos",
        "contei",
        "contagem",
        "cancel",
        "cancele",
        "cancelar",
        "sale",
        "venda",
        "we",
        "our",
        "nosso",
        "nossa",
        "nossos",
        "nossas",
        "foram",
        "ficar",
        "fica",
        "sem",
        "without",
        "stock",
        "estoque",
        "how",
        "many",
        "much",
        "quantos",
        "quantas",
        "quanto",
        "which",
        "quais",
        "qual",
        "what",
        "did",
        "does",
        "by",
        "em",
        "in",
        "on",
        "of",
        "o",
        "a",
        "os",
        "as",
        "produtos",
        "products",
        "product",
        "produto",
        "itens",
        "items",
        "i",
        "eu",
        "have",
        "temos",
        "shop",
        "loja",
        "order",
        "pedido",
        "encomenda",
        "refill",
        "reposicao",
        "caixas",
        "boxes",
        "more",
        "less",
        "there",
        "actually",
        "really",
        "verdade",
        "minimum",
        "minimo",
        "a",
        "an",
        "um",
        "uma",
        "do",
        "da",
        "de",
        "dos",
        "das",
        "no",
        "na",
        "nos",
        "nas",
        "to",
        "para",
        "pra",
        "ao",
        "aos",
        "the",
        "and",
        "e",
        "or",
        "ou",
        "is",
        "are",
        "was",
        "be",
        "so",
        "far",
        "ja",
        "agora",
        "now",
        "each",
        "every",
        "typically",
        "usually",
        "normally",
        "normalmente",
        "tell",
        "me",
        "show",
        "mostre",
        "list",
        "liste",
        "give",
        "first",
        "primeiro",
        "primeiros",
        "ranking",
        "rank",
        "timeline",
        "history",
        "historico",
        "happen",
        "happened",
        "made",
        "feito",
        "feita",
        "mark",
        "marque",
        "entrada",
        "chegaram",
        "chegou",
        "arrived",
        "got",
        "delivered",
        "entregue",
        "entregues",
        "segunda",
        "terca",
        "quarta",
        "quinta",
        "sexta",
        "sabado",
        "domingo",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "after",
        "before",
        "antes",
        "depois",
        "expect",
        "expected",
        "vamos",
        "we'll",
        "it",
        "they",
        "isso",
        "ele",
        "ela",
        "like",
        "likely",
        "probably",
        "provavelmente",
        "sell-out",
        "sellout",
        "anything",
        "something",
        "soon",
        "logo",
        "breve",
        "algo",
        "algum",
        "alguma",
        "nada",
        "dar",
        "sel",
        "seel",
        "bestseller",
        "bestsellers",
        "campeao",
        "campeoes",
        "shelf",
        "prateleira",
        "them",
        "eles",
        "elas",
        "vamos",
        "ficar",
        "sem",
    ];
    WORDS.contains(&w)
        || super::text::month(w).is_some()
        || w.parse::<f64>().is_ok()
        || w.contains('/')
        || w.contains('-') && w.chars().next().is_some_and(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::text::{fold, words};

    fn q(s: &str) -> Option<Ask> {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date");
        parse(&words(&fold(s)), today).map(|q| q.ask)
    }

    const TOP: Ask = Ask::Rank {
        order: RankOrder::Top,
    };
    const BOTTOM: Ask = Ask::Rank {
        order: RankOrder::Bottom,
    };

    fn propose(change: Change) -> Option<Ask> {
        Some(Ask::Propose { change })
    }

    #[test]
    fn sales_questions() {
        for s in [
            "How many mugs did we sell last month?",
            "quanto pão vendemos ontem?",
            "quantas canecas foram vendidas essa semana",
            "mug sales this week",
            "vendas de cafe nos ultimos 2 dias",
            "what did we sell of coffee in the last 7 days",
            "total sold since monday",
        ] {
            assert_eq!(q(s), Some(Ask::UnitsSold), "{s}");
        }
        for s in [
            "how much bread do we sell per day on average?",
            "media de vendas diaria do cafe",
            "quanto cafe vendemos por dia",
            "average daily sales of milk",
        ] {
            assert_eq!(q(s), Some(Ask::DailyAverage), "{s}");
        }
        for s in [
            "qual produto mais vendeu no último mês?",
            "best sellers this week",
            "what sold the most last month",
            "top 3 products by sales",
            "quais os produtos mais vendidos",
        ] {
            assert_eq!(q(s), Some(TOP), "{s}");
        }
        for s in [
            "worst sellers",
            "o que vendeu menos este mes",
            "which products sell the least",
        ] {
            assert_eq!(q(s), Some(BOTTOM), "{s}");
        }
    }

    #[test]
    fn stock_ahead_questions() {
        for s in [
            "which products will run out this week?",
            "when will coffee run out?",
            "o que vai acabar esta semana?",
            "quais produtos vão esgotar nos próximos 10 dias",
            "when do we run out of milk",
        ] {
            assert_eq!(q(s), Some(Ask::RunOut), "{s}");
        }
        for s in [
            "how many days of coffee do we have left?",
            "quantos dias de cafe temos?",
            "how long will the milk last?",
            "days of cover for mugs",
            "para quantos dias dá o leite?",
        ] {
            let got = q(s);
            assert!(
                got == Some(Ask::DaysOfCover) || (s.starts_with("para") && got.is_none()),
                "{s}: {got:?}"
            );
        }
        assert_eq!(q("when should I buy coffee?"), Some(Ask::WhenToBuy));
        assert_eq!(q("quando devo comprar café?"), Some(Ask::WhenToBuy));
        assert_eq!(q("what will coffee cost next week?"), Some(Ask::PriceAhead));
        assert_eq!(
            q("qual o preço do café na próxima semana"),
            Some(Ask::PriceAhead)
        );
        assert_eq!(
            q("who changed the minimum of coffee?"),
            Some(Ask::WhoChanged)
        );
        assert_eq!(q("quem mudou o mínimo do café?"), Some(Ask::WhoChanged));
        assert_eq!(q("who supplies our coffee?"), Some(Ask::Supplier));
        assert_eq!(q("qual o fornecedor do leite"), Some(Ask::Supplier));
    }

    #[test]
    fn changes_are_proposals() {
        assert_eq!(
            q("receive 30 units of coffee"),
            propose(Change::Receive { quantity: 30 })
        );
        assert_eq!(
            q("recebemos 12 caixas de leite"),
            propose(Change::Receive { quantity: 12 })
        );
        assert_eq!(
            q("registre a venda de 2 canecas"),
            propose(Change::Sale { quantity: 2 })
        );
        assert_eq!(
            q("record a sale of 4 mugs"),
            propose(Change::Sale { quantity: 4 })
        );
        assert_eq!(q("we sold 3 mugs"), propose(Change::Sale { quantity: 3 }));
        assert_eq!(
            q("we counted 11 mugs"),
            propose(Change::Count { counted: 11 })
        );
        assert_eq!(
            q("contamos 9 canecas"),
            propose(Change::Count { counted: 9 })
        );
        assert_eq!(q("cancel the milk order"), propose(Change::CancelRefill));
        assert_eq!(
            q("cancele o pedido de leite"),
            propose(Change::CancelRefill)
        );
        assert_eq!(
            q("receive the milk order"),
            propose(Change::ReceiveRefill { quantity: None })
        );
        assert_eq!(
            q("chegaram 10 do pedido de café"),
            propose(Change::ReceiveRefill { quantity: Some(10) })
        );
    }

    #[test]
    fn other_ways_people_ask() {
        for (s, want) in [
            ("What were our sales yesterday?", Ask::UnitsSold),
            ("sold in November?", Ask::UnitsSold),
            ("What's selling best?", TOP),
            ("top 5 products this month", TOP),
            ("which are our slowest movers", BOTTOM),
            ("quais produtos estão encalhados?", BOTTOM),
            ("How long until we run out of milk?", Ask::RunOut),
            ("Will the bread last until Friday?", Ask::DaysOfCover),
            ("do we have enough milk for the week?", Ask::DaysOfCover),
            ("quantos dias o leite aguenta?", Ask::DaysOfCover),
            ("When should we reorder milk?", Ask::WhenToBuy),
            ("is it a good time to buy coffee?", Ask::WhenToBuy),
            ("Who sells us coffee?", Ask::Supplier),
            ("de quem compramos café?", Ask::Supplier),
            ("who provides the milk", Ask::Supplier),
            ("Who made the last change to milk?", Ask::WhoChanged),
        ] {
            assert_eq!(q(s), Some(want), "{s}");
        }
        assert_eq!(q("stop the milk order"), propose(Change::CancelRefill));
        assert_eq!(q("anule o pedido de café"), propose(Change::CancelRefill));
        assert_eq!(
            q("the coffee delivery arrived"),
            propose(Change::ReceiveRefill { quantity: None })
        );
        assert_eq!(
            q("we just got 20 bags of coffee"),
            propose(Change::Receive { quantity: 20 })
        );
        assert_eq!(
            q("there are actually 15 mugs"),
            propose(Change::Count { counted: 15 })
        );
        assert!(
            !matches!(
                q("did the coffee delivery arrive?"),
                Some(Ask::Propose { .. })
            ),
            "a question about a delivery proposes nothing"
        );
    }

    #[test]
    fn adjustments_and_needs() {
        assert_eq!(
            q("set coffee stock to 40"),
            propose(Change::Count { counted: 40 })
        );
        assert_eq!(
            q("acertar o estoque do leite para 25"),
            propose(Change::Count { counted: 25 })
        );
        assert_eq!(
            q("adjust mugs to 12"),
            propose(Change::Count { counted: 12 })
        );
        assert_eq!(
            q("set the minimum of coffee to 30"),
            None,
            "a minimum, not a count"
        );
        assert_eq!(q("do we need to order coffee?"), Some(Ask::WhenToBuy));
        assert_eq!(q("precisamos comprar leite?"), Some(Ask::WhenToBuy));
        assert_eq!(q("até quando dura o leite?"), Some(Ask::DaysOfCover));
        assert_eq!(
            q("quantos dias faltam para acabar o café?"),
            Some(Ask::DaysOfCover)
        );
    }

    #[test]
    fn the_older_kinds_are_left_alone() {
        for s in [
            "how much milk do we have?",
            "which refills were received?",
            "cancelled refills?",
            "pedidos cancelados",
            "pedidos recebidos",
            "reposições recebidas",
            "what is the minimum of coffee?",
            "milk movements today",
            "order 20 units of milk",
            "why did we order coffee?",
            "how many units of coffee were received last week?",
            "hello",
        ] {
            assert_eq!(q(s), None, "{s}");
        }
    }

    #[test]
    fn a_limit_is_read_next_to_its_word() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date");
        let parsed = parse(&words(&fold("top 3 best sellers last week")), today).expect("parsed");
        assert_eq!(parsed.limit, Some(3));
        assert_eq!(
            parsed
                .period
                .map(|p| (p.from.to_string(), p.to.to_string())),
            Some(("2026-11-30".into(), "2026-12-06".into()))
        );
    }
}
