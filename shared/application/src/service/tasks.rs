//! `GET /v1/tasks` and `GET /v1/escalations`: an officer's queue and the escalated steps.

use super::*;

/// `GET /v1/tasks?status=open`.
pub async fn tasks(
    app: &App,
    actor: &Actor,
    filter: &TaskFilter,
    page: &crate::paging::PageRequest,
) -> Result<TaskList, ServiceError> {
    let dept = officer_dept(actor)?;
    let (step, overdue_only) = filter.read()?;
    // The officer's own department and region from the index, a page at a time in queue
    // order (their region, oldest due first), then their hospital, the step and the
    // overdue filter: a first page reads about a page of the index however long the
    // queue is.
    if let Some(a) = &page.after {
        if domain::view::parse_queue_key(a).is_none() {
            return Err(ServiceError::Invalid(vec![Problem::new(
                "cursor",
                "format",
                "分页标记无效，请从第一页重新查询",
            )]));
        }
    }
    let filtered = step.is_some() || overdue_only || actor.scope.hospital.is_some();
    let mut tasks: Vec<TaskLine> = vec![];
    let mut after = page.after.clone();
    loop {
        let want = if filtered {
            crate::paging::MAX_LIMIT
        } else {
            page.limit + 1 - tasks.len()
        };
        let (batch, next) = app
            .tasks
            .open_tasks(dept, actor.scope.region_filter(), after.as_deref(), want)
            .await?;
        tasks.extend(batch.into_iter().filter(|t| {
            t.dept == dept
                && actor
                    .scope
                    .admits(t.region.as_deref(), t.dept, &t.hospital_code)
                && step.is_none_or(|x| x == t.step)
                && (!overdue_only || t.overdue)
        }));
        match next {
            Some(k) if tasks.len() <= page.limit => after = Some(k),
            _ => break,
        }
    }
    let next_cursor = if tasks.len() > page.limit {
        tasks.truncate(page.limit);
        tasks
            .last()
            .map(|t| crate::paging::cursor_for(&t.queue_key()))
    } else {
        None
    };
    Ok(TaskList { tasks, next_cursor })
}

/// `GET /v1/tasks` filters.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<String>,
    pub step: Option<String>,
    pub overdue: Option<String>,
}

impl TaskFilter {
    /// The step asked for, if any, and whether only overdue tasks are (open tasks only).
    fn read(&self) -> Result<(Option<Step>, bool), ServiceError> {
        let refuse = |field: &str, message: &'static str| {
            ServiceError::Invalid(vec![Problem::new(field, "enum", message)])
        };
        if !matches!(self.status.as_deref(), None | Some("open")) {
            return Err(refuse("status", "只能查询待办任务"));
        }
        let step = match self.step.as_deref() {
            None => None,
            Some(s) => Some(Step::parse(s).ok_or_else(|| refuse("step", "环节名称不正确"))?),
        };
        let overdue_only = match self.overdue.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(refuse("overdue", "应为 true 或 false")),
        };
        Ok((step, overdue_only))
    }
}

/// `GET /v1/supervision/escalations`: the steps the SLA monitor escalated (overdue by more
/// than one working day, still open) in the supervisor's region, oldest due first, paged.
pub async fn escalations(
    app: &App,
    actor: &Actor,
    page: &crate::paging::PageRequest,
) -> Result<crate::response::EscalationList, ServiceError> {
    let now = app.now();
    // The steps the SLA monitor escalated, from the escalation index (no case read).
    let items: Vec<domain::supervision::Escalation> = app
        .reads
        .escalated(actor.scope.region_filter())
        .await?
        .iter()
        .filter_map(|e| e.at(now, &app.calendar))
        .collect();
    let (items, next_cursor) = page.page(items, |e| {
        crate::paging::time_key(
            e.due_at,
            &format!("{}.{}", e.case_id, e.step.as_str()),
            false,
        )
    });
    Ok(crate::response::EscalationList { items, next_cursor })
}
