//! Department officers' routes: the task list and a decision on a task.

use crate::call::{Answer, Call, Handled, Record};
use application::service::TaskFilter;
use http::StatusCode;

/// `GET /v1/tasks`.
pub fn list(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let filter = TaskFilter {
            status: c.query("status"),
            step: c.query("step"),
            overdue: c.query("overdue"),
        };
        let page = c.page()?;
        let tasks = application::service::tasks(c.app(), c.actor(), &filter, &page).await?;
        Answer::json(StatusCode::OK, tasks)
    })
}

/// `GET /v1/tasks/{task_id}`: the officer's task view (a read of personal data).
pub fn view(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let task = c.params.get("task_id");
        let v = application::service::task_view(c.app(), c.actor(), task).await?;
        let case = v.case_id.clone();
        Answer::json(StatusCode::OK, v).read(vec![case], &["task_view"])
    })
}

/// `POST /v1/tasks/{task_id}/decision`.
pub fn decide(c: Call<'_>) -> Handled<'_> {
    Box::pin(async move {
        let body = c.json()?;
        let task = c.params.get("task_id");
        let d = application::service::decide(c.app(), c.actor(), task, &body).await?;
        let case = d.case_id.clone();
        Answer::json(StatusCode::OK, d).wrote(vec![case], &["steps", "results"])
    })
}
