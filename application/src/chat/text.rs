//! The fuzzy parts of reading a question: accents, language, product names, numbers and times.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_stemmers::{Algorithm, Stemmer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Pt,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Pt => "pt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "en" => Some(Lang::En),
            "pt" => Some(Lang::Pt),
            _ => None,
        }
    }
}

/// The text in the conversation's language.
pub fn t(lang: Lang, en: String, pt: String) -> String {
    match lang {
        Lang::En => en,
        Lang::Pt => pt,
    }
}

/// Any of the words is one of `any`.
pub fn has_any(words: &[String], any: &[&str]) -> bool {
    words.iter().any(|w| any.contains(&w.as_str()))
}

/// Any of the words starts with one of `prefixes` (stems: "vend" finds "vendemos").
pub fn has_prefix(words: &[String], prefixes: &[&str]) -> bool {
    words
        .iter()
        .any(|w| prefixes.iter().any(|p| w.starts_with(p)))
}

/// Lower case, accents folded (`feijão` -> `feijao`), punctuation as spaces.
pub fn fold(text: &str) -> String {
    deunicode::deunicode(text)
        .to_lowercase()
        .chars()
        .map(|c| {
            // `:` and `+` stay for RFC 3339 instants ("2026-11-20T10:00:00Z").
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '+') {
                c
            } else {
                ' '
            }
        })
        .collect()
}

pub fn words(folded: &str) -> Vec<String> {
    folded
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '.' || c == ':').to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

const PT_MARKERS: &[&str] = &[
    "quando",
    "devo",
    "comprar",
    "encomendar",
    "fornecedor",
    "fornece",
    "contamos",
    "contei",
    "contagem",
    "vendi",
    "vendeu",
    "vendidos",
    "vendidas",
    "vendido",
    "vendida",
    "venda",
    "registre",
    "registrar",
    "recebemos",
    "receba",
    "entrada",
    "dar",
    "acaba",
    "acabar",
    "esgotar",
    "esgota",
    "vai",
    "vao",
    "vamos",
    "ficar",
    "sem",
    "com",
    "das",
    "dos",
    "nos",
    "nas",
    "mais",
    "menos",
    "quem",
    "mudou",
    "alterou",
    "mexeu",
    "definiu",
    "cancele",
    "cancelar",
    "custar",
    "preco",
    "proxima",
    "proximos",
    "ultimo",
    "ultimos",
    "passado",
    "dias",
    "media",
    "diaria",
    "conte",
    "uma",
    "um",
    "sentido",
    "vida",
    "piada",
    "restam",
    "temos",
    "quanto",
    "quantos",
    "quantas",
    "temos",
    "tem",
    "o",
    "a",
    "os",
    "as",
    "do",
    "da",
    "de",
    "que",
    "esta",
    "estao",
    "abaixo",
    "minimo",
    "porque",
    "por",
    "pedido",
    "pedidos",
    "reposicao",
    "reposicoes",
    "ontem",
    "semana",
    "passada",
    "estoque",
    "e",
    "previsao",
    "notificacoes",
    "avisos",
    "movimentos",
    "encomende",
    "encomendar",
    "peca",
    "pedir",
    "defina",
    "definir",
    "para",
    "unidades",
    "abertos",
    "recebidos",
    "cancelados",
    "na",
    "no",
    "segunda",
    "terca",
    "quarta",
    "quinta",
    "sexta",
    "sabado",
    "domingo",
    "hoje",
    "qual",
    "quais",
    "mostre",
    "havia",
    "tinha",
    "vendas",
    "recebemos",
    "vendemos",
    "ha",
    "alertas",
    "demanda",
    "mes",
    "ola",
    "oi",
    "tudo",
    "bem",
    "melhor",
    "dia",
    "semana",
    "essa",
    "esse",
    "nesta",
    "neste",
    "este",
    "foram",
    "chegaram",
    "reposicao",
    "cobertura",
    "obrigado",
    "obrigada",
    "bom",
    "dia",
    "tarde",
    "noite",
];
const EN_MARKERS: &[&str] = &[
    "when",
    "will",
    "should",
    "who",
    "supplies",
    "supplier",
    "sell",
    "sells",
    "sellers",
    "best",
    "worst",
    "top",
    "most",
    "least",
    "count",
    "counted",
    "record",
    "receive",
    "cancel",
    "arrived",
    "days",
    "left",
    "long",
    "tell",
    "joke",
    "meaning",
    "life",
    "my",
    "our",
    "it",
    "run",
    "out",
    "price",
    "cost",
    "next",
    "average",
    "per",
    "day",
    "changed",
    "anything",
    "soon",
    "this",
    "that",
    "for",
    "with",
    "by",
    "in",
    "from",
    "since",
    "past",
    "add",
    "log",
    "how",
    "much",
    "many",
    "do",
    "we",
    "have",
    "what",
    "is",
    "are",
    "below",
    "the",
    "minimum",
    "why",
    "did",
    "order",
    "orders",
    "refill",
    "refills",
    "yesterday",
    "week",
    "last",
    "stock",
    "and",
    "forecast",
    "notifications",
    "alerts",
    "movements",
    "set",
    "to",
    "units",
    "open",
    "received",
    "cancelled",
    "on",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "which",
    "show",
    "there",
    "was",
    "were",
    "sales",
    "sold",
    "of",
    "demand",
    "month",
    "buy",
    "hello",
    "hi",
    "thanks",
    "thank",
    "you",
    "good",
    "morning",
];

/// English or Portuguese by marker words; a tie keeps the conversation's language.
pub fn language(words: &[String], previous: Option<Lang>) -> Lang {
    let pt = words
        .iter()
        .filter(|w| PT_MARKERS.contains(&w.as_str()))
        .count();
    let en = words
        .iter()
        .filter(|w| EN_MARKERS.contains(&w.as_str()))
        .count();
    match pt.cmp(&en) {
        std::cmp::Ordering::Greater => Lang::Pt,
        std::cmp::Ordering::Less => Lang::En,
        std::cmp::Ordering::Equal => previous.unwrap_or(Lang::En),
    }
}

/// Words that never name a product.
pub fn is_stop_word(w: &str) -> bool {
    PT_MARKERS.contains(&w)
        || EN_MARKERS.contains(&w)
        || w.len() < 3
        || w.chars().all(|c| c.is_ascii_digit())
        || matches!(
            w,
            "about"
                | "with"
                | "for"
                | "our"
                | "any"
                | "all"
                | "products"
                | "product"
                | "produto"
                | "produtos"
                | "itens"
                | "items"
                | "left"
                | "now"
                | "agora"
                | "sobre"
                | "com"
                | "uns"
                | "umas"
                | "mais"
                | "more"
                | "hand"
                | "mao"
                | "reserved"
                | "reservado"
                | "available"
                | "disponivel"
                | "unit"
                | "unidade"
                | "please"
                | "favor"
                | "quero"
                | "want"
                | "need"
                | "preciso"
                | "tell"
                | "diga"
                | "give"
                | "me"
                | "explain"
                | "explique"
                | "reason"
                | "motivo"
                | "made"
                | "feito"
                | "foi"
                | "aquele"
                | "aquela"
                | "this"
                | "that"
                | "esse"
                | "essa"
                | "isso"
                | "the"
                | "ago"
                | "atras"
                | "dias"
                | "days"
                | "since"
                | "desde"
                | "ultima"
                | "ultimos"
                | "ultimas"
                | "past"
                | "sell"
                | "vender"
                | "vendeu"
                | "sale"
                | "venda"
                | "stats"
                | "status"
                | "situacao"
                | "state"
                | "estado"
                | "level"
                | "nivel"
                | "low"
                | "baixo"
                | "under"
                | "running"
                | "lista"
                | "list"
                | "ordered"
                | "pedimos"
                | "compramos"
                | "bought"
                | "comprar"
                | "compre"
                | "encomenda"
                | "inventory"
                | "inventario"
                | "also"
                | "tambem"
                | "then"
                | "entao"
                | "next"
                | "proximos"
                | "proxima"
                | "minimum"
                | "minimo"
                | "mínimo"
        )
}

/// Stems of a word in both languages (the question may mix them: "e os mugs?").
pub fn stems(word: &str) -> [String; 2] {
    let en = Stemmer::create(Algorithm::English).stem(word).into_owned();
    let pt = Stemmer::create(Algorithm::Portuguese)
        .stem(word)
        .into_owned();
    [en, pt]
}

/// (No "feijão" -> "beans": it would find "Coffee beans"; a word is only here when its
/// translation names the same goods.)
/// Everyday shop words in both languages, so "leite" finds a product named "Milk" and "coffee"
/// one named "Café": a question's word is also tried in the other language.
const LEXICON: &[(&str, &str)] = &[
    ("leite", "milk"),
    ("cafe", "coffee"),
    ("caneca", "mug"),
    ("canecas", "mugs"),
    ("filtro", "filter"),
    ("filtros", "filters"),
    ("papel", "paper"),
    ("acucar", "sugar"),
    ("arroz", "rice"),
    ("pao", "bread"),
    ("agua", "water"),
    ("cha", "tea"),
    ("verde", "green"),
    ("preto", "black"),
    ("farinha", "flour"),
    ("oleo", "oil"),
    ("queijo", "cheese"),
    ("manteiga", "butter"),
    ("ovos", "eggs"),
    ("xicara", "cup"),
    ("copo", "glass"),
    ("suco", "juice"),
    ("geleia", "jam"),
    ("biscoito", "cookie"),
    ("sabao", "soap"),
    ("feijao", "beans"),
];

/// The singulars a plural may come from, in Portuguese and English: `paes` -> `pao`,
/// `limoes` -> `limao`, `geleias` -> `geleia`, `mugs` -> `mug`, `boxes` -> `box`.
pub fn singulars(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (plural, singular) in [
        ("aes", "ao"),
        ("oes", "ao"),
        ("ns", "m"),
        ("is", "l"),
        ("es", ""),
        ("s", ""),
    ] {
        if let Some(stem) = word.strip_suffix(plural) {
            // `paes` -> `pao` keeps one letter of stem; a bare `s` needs more.
            if stem.len() >= if singular.is_empty() { 2 } else { 1 } {
                out.push(format!("{stem}{singular}"));
            }
        }
    }
    out
}

/// The word, its singulars, and their translations in the lexicon: what a product's name is
/// matched against.
pub fn variants(word: &str) -> Vec<String> {
    let mut forms = vec![word.to_owned()];
    forms.extend(singulars(word));
    let mut out = Vec::new();
    for form in &forms {
        for v in with_translations(form) {
            if !out.iter().any(|o: &String| o == v) {
                out.push(v.to_owned());
            }
        }
    }
    out
}

/// The word and its translations in the lexicon.
pub fn with_translations(word: &str) -> Vec<&str> {
    let mut out = vec![word];
    for (pt, en) in LEXICON {
        if *pt == word {
            out.push(en);
        } else if *en == word {
            out.push(pt);
        }
    }
    out
}

/// How well a question word names a product word: 1.0 same stem, else Jaro-Winkler of the
/// words (misspellings), 0 below a threshold that keeps "milk" from matching "mugs".
pub fn word_score(question_word: &str, product_word: &str) -> f64 {
    word_score_stemmed(
        question_word,
        &stems(question_word),
        product_word,
        &stems(product_word),
    )
}

/// [`word_score`] with both words' stems already known: linking a question to a catalogue of a
/// thousand products stems each word once, not once per pair (the pairs were most of a
/// question's time in `restock-bench --only chat`).
pub fn word_score_stemmed(
    question_word: &str,
    question_stems: &[String; 2],
    product_word: &str,
    product_stems: &[String; 2],
) -> f64 {
    if question_word == product_word {
        return 1.0;
    }
    if question_stems.iter().any(|s| product_stems.contains(s)) {
        return 0.95;
    }
    // Cheap refusals first: a word whose first letter and length are far off cannot pass.
    if question_word.len().abs_diff(product_word.len()) > 3
        && !question_word
            .chars()
            .zip(product_word.chars())
            .take(4)
            .all(|(a, b)| a == b)
    {
        return 0.0;
    }
    let jw = strsim::jaro_winkler(question_word, product_word);
    let lev = strsim::levenshtein(question_word, product_word);
    let prefix = question_word
        .chars()
        .zip(product_word.chars())
        .take_while(|(a, b)| a == b)
        .count();
    if (question_word.len() >= 4 && lev <= 1)
        || (question_word.len() >= 6 && lev <= 2)
        || jw >= 0.92
        || (prefix >= 4 && jw >= 0.9)
    {
        jw.min(0.9)
    } else {
        0.0
    }
}

/// Month names in English and Portuguese, folded (lower case, no accents), with abbreviations.
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("sept", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("janeiro", 1),
    ("fevereiro", 2),
    ("marco", 3),
    ("abril", 4),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("agosto", 8),
    ("setembro", 9),
    ("outubro", 10),
    ("novembro", 11),
    ("dezembro", 12),
    ("fev", 2),
    ("abr", 4),
    ("mai", 5),
    ("ago", 8),
    ("set", 9),
    ("out", 10),
    ("dez", 12),
];

/// The month a folded word names (`dezembro`, `dec`), if any.
pub fn month(folded: &str) -> Option<u32> {
    MONTHS
        .iter()
        .find(|(name, _)| *name == folded)
        .map(|&(_, m)| m)
}

/// The first whole number in the question that is not the day of a date: in "sold on 3 de
/// dezembro" or "December 3" the 3 is a day, not a quantity (the figures check learnt the same
/// about dates split into numbers).
pub fn first_number(words: &[String]) -> Option<i64> {
    // `out`, `set`, `mar`, `may`, `mai` are months only after `de`/`of` ("12 out of stock").
    let month_at = |i: usize, joined: bool| {
        words.get(i).is_some_and(|w| {
            month(w).is_some()
                && (joined || !matches!(w.as_str(), "may" | "mar" | "set" | "out" | "mai"))
        })
    };
    let joiner = |i: usize| matches!(words.get(i).map(String::as_str), Some("de" | "of"));
    words.iter().enumerate().find_map(|(i, w)| {
        let n = w.parse::<i64>().ok()?;
        let day_of_month = month_at(i + 1, false)
            || (joiner(i + 1) && month_at(i + 2, true))
            || (i > 0 && month_at(i - 1, false));
        (!day_of_month).then_some(n)
    })
}

/// A period the question names: `[from, to)`, and the instant it points at (its end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The instants a question names, for the questions about a product's state and movements:
/// an RFC 3339 instant ("milk at 2026-11-20T10:00:00Z"), or a period of whole days as
/// [`super::period::parse`] reads it (its one home), from the first day's start to the end of
/// the last, or to now when that is sooner.
pub fn period(words: &[String], now: DateTime<Utc>) -> Option<Period> {
    for w in words {
        if let Ok(at) = DateTime::parse_from_rfc3339(&w.to_uppercase()) {
            let at = at.with_timezone(&Utc);
            return Some(Period {
                from: at,
                to: at + Duration::seconds(1),
            });
        }
    }
    let days = super::period::parse(words, now.date_naive())?;
    Some(Period {
        from: day_start(days.from),
        to: day_start(days.to + Duration::days(1)).min(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        words(&fold(s))
    }

    #[test]
    fn accents_fold_and_languages_are_told_apart() {
        assert_eq!(fold("Feijão!"), "feijao ");
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let at = period(&w("milk at 2026-11-20T10:00:00Z?"), now).unwrap();
        assert_eq!(at.from.to_rfc3339(), "2026-11-20T10:00:00+00:00");
        assert_eq!(language(&w("quanto feijão temos?"), None), Lang::Pt);
        assert_eq!(language(&w("how much milk do we have?"), None), Lang::En);
    }

    #[test]
    fn misspelled_and_plural_names_match_and_others_do_not() {
        assert!(word_score("mugs", "mug") > 0.9);
        assert!(word_score("coffe", "coffee") > 0.8);
        assert!(word_score("feijoes", "feijao") > 0.0);
        assert_eq!(word_score("milk", "mugs"), 0.0);
        assert_eq!(with_translations("leite"), ["leite", "milk"]);
        // Black beans are not coffee beans: no translation that would find the wrong goods.
        assert_eq!(with_translations("feijao"), ["feijao", "beans"]);
        assert!(variants("paes").contains(&"bread".to_owned()));
        assert!(variants("geleias").contains(&"jam".to_owned()));
        assert!(variants("leites").contains(&"milk".to_owned()));
    }

    #[test]
    fn the_day_of_a_date_is_not_a_quantity() {
        assert_eq!(first_number(&w("vendas de 3 de dezembro")), None);
        assert_eq!(first_number(&w("sales on december 3")), None);
        assert_eq!(first_number(&w("order 20 on 3 dec")), Some(20));
        assert_eq!(first_number(&w("12 out of stock")), Some(12));
        assert_eq!(first_number(&w("encomende 30 cafe")), Some(30));
    }

    #[test]
    fn periods() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(); // a Wednesday
        let monday = period(&w("on monday"), now).unwrap();
        assert_eq!(monday.from.date_naive().to_string(), "2026-11-23");
        let y = period(&w("ontem"), now).unwrap();
        assert_eq!(y.from.date_naive().to_string(), "2026-11-24");
        // Last week is Monday to Sunday, before this one.
        let last = period(&w("last week"), now).unwrap();
        assert_eq!(last.from.date_naive().to_string(), "2026-11-16");
        assert_eq!(last.to.date_naive().to_string(), "2026-11-23");
        assert_eq!(
            period(&w("today"), now).unwrap().to,
            now,
            "today runs to now"
        );
        assert!(period(&w("how much milk"), now).is_none());
    }
}
