//! What a proposed change says to the person who must confirm it: one sentence per write
//! tool, in the conversation's language, written once for the interpreter and the LLM path.

use super::text::Lang;
use crate::tools::ToolRequest;

pub(crate) fn summary(lang: Lang, request: &ToolRequest, name: &str, sku: &str) -> String {
    use ToolRequest as R;
    let en = match request {
        R::RefillStock { quantity, .. } => {
            format!("Order {} units of {name} ({sku})", quantity.get())
        }
        R::SetMinStock {
            quantity: Some(q), ..
        } => format!("Set the minimum of {name} ({sku}) to {}", q.get()),
        R::SetMinStock { quantity: None, .. } => {
            format!("Give the minimum of {name} ({sku}) back to the forecast")
        }
        R::ReceiveStock { quantity, .. } => {
            format!(
                "Receive {} units of {name} ({sku}) into stock",
                quantity.get()
            )
        }
        R::RecordSale { quantity, .. } => {
            format!(
                "Record a sale of {} units of {name} ({sku})",
                quantity.get()
            )
        }
        R::CountStock { counted, .. } => {
            format!(
                "Record a count of {} units of {name} ({sku})",
                counted.get()
            )
        }
        R::CancelRefill(_) => format!("Cancel the open refill of {name} ({sku})"),
        R::ReceiveRefill {
            quantity: Some(q), ..
        } => format!("Receive {} units of the refill of {name} ({sku})", q.get()),
        R::ReceiveRefill { quantity: None, .. } => {
            format!("Receive the refill of {name} ({sku}) in full")
        }
        other => format!("Run {} on {name} ({sku})", other.name()),
    };
    if lang == Lang::En {
        return en;
    }
    match request {
        R::RefillStock { quantity, .. } => {
            format!("Encomendar {} unidades de {name} ({sku})", quantity.get())
        }
        R::SetMinStock {
            quantity: Some(q), ..
        } => format!("Definir o mínimo de {name} ({sku}) em {}", q.get()),
        R::SetMinStock { quantity: None, .. } => {
            format!("Devolver o mínimo de {name} ({sku}) à previsão")
        }
        R::ReceiveStock { quantity, .. } => {
            format!(
                "Dar entrada de {} unidades de {name} ({sku})",
                quantity.get()
            )
        }
        R::RecordSale { quantity, .. } => {
            format!(
                "Registrar a venda de {} unidades de {name} ({sku})",
                quantity.get()
            )
        }
        R::CountStock { counted, .. } => {
            format!(
                "Registrar a contagem de {} unidades de {name} ({sku})",
                counted.get()
            )
        }
        R::CancelRefill(_) => format!("Cancelar a reposição aberta de {name} ({sku})"),
        R::ReceiveRefill {
            quantity: Some(q), ..
        } => format!(
            "Receber {} unidades da reposição de {name} ({sku})",
            q.get()
        ),
        R::ReceiveRefill { quantity: None, .. } => {
            format!("Receber a reposição de {name} ({sku}) inteira")
        }
        other => format!("Executar {} em {name} ({sku})", other.name()),
    }
}
