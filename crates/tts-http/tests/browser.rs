//! The web UI in a real browser (feature `browser-tests`): headless Chromium driven over WebDriver
//! against the real `tts-server serve` on its embedded default (SQLite and the in-process queue),
//! seeded with the demo data. Flows: sign in and out; a requester files a ticket and sees it; an agent
//! acts and the diagram moves, live on the requester's open page; escalation; an admin builds a
//! workflow in the editor, sees validation and the diagram change, and publishes it; the dashboard's
//! chart drills down to the list; the agent flow again with JavaScript off. After every page: no
//! request left the origin and the console has no error. Screenshots of every screen go to
//! `target/ui-screenshots/`. The tests take turns: one browser at a time on two cores.

mod chrome;
mod process;

use chrome::{Driver, Tab};
use process::{EMPLOYEE, PASSWORD, Running, Site};

const ADMIN: &str = "admin@demo.tts.example";
const IT_AGENTS: [&str; 2] = ["it.agent1@demo.tts.example", "it.agent2@demo.tts.example"];

/// One browser test at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A seeded server on its own SQLite database, and a chromedriver.
struct World {
    server: Running,
    driver: Driver,
    _dir: tempfile::TempDir,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
    }
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = format!("sqlite://{}", dir.path().join("tts.db").display());
    let site = Site::new(&db, dir.path());
    process::seed(&site);
    let server = process::start(&site).await;
    World {
        server,
        driver: Driver::start().await,
        _dir: dir,
    }
}

impl World {
    async fn tab(&self, javascript: bool) -> Tab {
        self.driver.browser(&self.server.base, javascript).await
    }

    /// A browser signed in as `email`.
    async fn signed_in(&self, email: &str, javascript: bool) -> Tab {
        let tab = self.tab(javascript).await;
        sign_in(&tab, email).await;
        tab
    }
}

async fn sign_in(tab: &Tab, email: &str) {
    tab.open("/ui/signin").await;
    tab.fill("input[name=email]", email).await;
    tab.fill("input[name=password]", PASSWORD).await;
    tab.submit("form[action$='/signin'] button").await;
    let path = tab.path().await;
    if path != "/ui" {
        panic!("signing in as {email} led to {path}: {}", tab.text("main").await);
    }
    tab.audit().await;
}

/// Files a ticket through the new-ticket form; returns its number.
async fn file_ticket(tab: &Tab, subject: &str) -> String {
    tab.open("/ui/tickets/new").await;
    tab.fill("input[name=subject]", subject).await;
    tab.fill(
        "textarea[name=description]",
        "The printer on floor 3 prints blank pages.",
    )
    .await;
    tab.fill("input[name=category]", "IT Support").await;
    tab.fill("input[name=department]", "IT Department").await;
    tab.choose("select[name=priority]", "high").await;
    tab.submit("form[action$='/tickets/new'] button").await;
    let path = tab.path().await;
    let number = path
        .strip_prefix("/ui/tickets/")
        .and_then(|p| p.strip_suffix('/'))
        .unwrap_or_else(|| panic!("the form should lead to the ticket, not {path}"))
        .to_string();
    assert!(number.starts_with("TKT-"), "{number}");
    tab.audit().await;
    number
}

/// The name of the diagram's current step (a node shows the step's name, then its role).
async fn current_step(tab: &Tab) -> String {
    let text = tab.text(".workflow-diagram .node.current").await;
    text.lines().next().unwrap_or_default().to_string()
}

/// Reloads the ticket page until its task has a current step (allocation runs in the background).
async fn allocated(tab: &Tab, number: &str) {
    let start = std::time::Instant::now();
    loop {
        tab.open(&format!("/ui/tickets/{number}/")).await;
        if tab.has(".workflow-diagram .node.current").await {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{number} was not allocated in 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Acts on the ticket's current step with the button named `action`.
async fn act(tab: &Tab, number: &str, action: &str, notes: &str) {
    allocated(tab, number).await;
    tab.fill("textarea[name=notes]", notes).await;
    let button = tab
        .client
        .find(fantoccini::Locator::XPath(&format!(
            "//form[contains(@action, '/act')]//button[normalize-space(.)='{action}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no {action} button on {number}: {e}"));
    let old = tab.client.find(fantoccini::Locator::Css("html")).await.expect("page");
    button.click().await.expect("click");
    while old.tag_name().await.is_ok() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tab.loaded().await;
    assert_eq!(tab.path().await, format!("/ui/tickets/{number}/"));
    tab.audit().await;
}

/// Which IT agent holds the ticket's open step, signed in on a tab that shows the ticket.
async fn holder(world: &World, number: &str, javascript: bool) -> Tab {
    for email in IT_AGENTS {
        let tab = world.signed_in(email, javascript).await;
        tab.open(&format!("/ui/tickets/{number}/")).await;
        if tab.has("button[name=escalate]").await {
            return tab;
        }
        tab.close().await;
    }
    panic!("no IT agent holds {number}");
}

#[tokio::test]
async fn sign_in_shows_the_dashboard_and_sign_out_ends_the_session() {
    let _turn = TURN.lock().await;
    let world = world().await;
    let tab = world.tab(true).await;
    tab.open("/").await;
    assert_eq!(
        tab.path().await,
        "/ui/signin",
        "/ leads to the UI, which asks to sign in"
    );
    tab.screenshot("01-sign-in").await;
    tab.fill("input[name=email]", EMPLOYEE).await;
    tab.fill("input[name=password]", "not the password").await;
    tab.submit("form[action$='/signin'] button").await;
    tab.wait_for_text("main", "Invalid e-mail or password").await;
    tab.audit().await;
    sign_in(&tab, EMPLOYEE).await;
    assert_eq!(
        tab.attr("html", "data-js").await.as_deref(),
        Some("on"),
        "the script runs"
    );
    assert!(tab.text("header").await.contains("Demo Employee"));
    tab.screenshot("02-dashboard-requester").await;
    tab.submit("form.signout button").await;
    assert_eq!(tab.path().await, "/ui/signin");
    tab.open("/ui/tickets/").await;
    assert_eq!(tab.path().await, "/ui/signin", "the session ended");
    tab.audit().await;
    tab.close().await;
}

#[tokio::test]
async fn a_requester_files_a_ticket_sees_the_field_errors_and_then_the_ticket() {
    let _turn = TURN.lock().await;
    let world = world().await;
    let tab = world.signed_in(EMPLOYEE, true).await;
    tab.open("/ui/tickets/new").await;
    tab.screenshot("03-new-ticket").await;
    // The browser's own checks aside, the server's field errors show next to the fields.
    tab.eval("document.querySelectorAll('[required]').forEach(function (e) { e.removeAttribute('required'); });")
        .await;
    tab.fill("input[name=subject]", "   ").await;
    tab.submit("form[action$='/tickets/new'] button").await;
    tab.wait_for_text(".field-error", "").await;
    let errors = tab.text("main").await;
    assert!(errors.contains("subject") || errors.contains("Subject"), "{errors}");
    tab.audit_allowing(&["422"]).await;
    let number = file_ticket(&tab, "Printer prints blank pages").await;
    assert!(tab.text("h1").await.contains("Printer prints blank pages"));
    tab.screenshot("05-ticket-requester").await;
    tab.open("/ui/tickets/").await;
    tab.wait_for_text("table", &number).await;
    tab.screenshot("04-ticket-list").await;
    tab.audit().await;
    tab.close().await;
}

#[tokio::test]
async fn an_agent_acts_the_diagram_moves_and_the_requesters_open_page_follows_live() {
    let _turn = TURN.lock().await;
    let world = world().await;
    let requester = world.signed_in(EMPLOYEE, true).await;
    let number = file_ticket(&requester, "Laptop will not boot").await;
    allocated(&requester, &number).await;
    assert_eq!(current_step(&requester).await, "Triage Ticket");

    let admin = world.signed_in(ADMIN, true).await;
    allocated(&admin, &number).await;
    let before = current_step(&admin).await;
    assert_eq!(before, "Triage Ticket");
    // A comment from the requester's page appears on the admin's open page without a reload.
    requester.fill("textarea[name=content]", "It beeps three times.").await;
    requester.submit("form[action$='/comments'] button").await;
    admin.wait_for_text("#comment-list", "It beeps three times.").await;

    act(&admin, &number, "Accept", "Routing to IT").await;
    assert_eq!(current_step(&admin).await, "Resolve Ticket");
    assert!(admin.has(".workflow-diagram .node.visited").await);
    assert!(admin.has(".workflow-diagram .edge.traversed").await);
    admin.screenshot("06-ticket-agent").await;
    // The requester's page, untouched, shows the move.
    requester
        .wait_for_text(".workflow-diagram .node.current", "Resolve Ticket")
        .await;
    requester.audit().await;
    admin.audit().await;
    requester.close().await;
    admin.close().await;
}

#[tokio::test]
async fn an_agent_escalates_with_a_reason() {
    let _turn = TURN.lock().await;
    let world = world().await;
    let requester = world.signed_in(EMPLOYEE, true).await;
    let number = file_ticket(&requester, "VPN drops every hour").await;
    requester.close().await;
    let admin = world.signed_in(ADMIN, true).await;
    act(&admin, &number, "Accept", "IT, please").await;
    let agent = holder(&world, &number, true).await;
    agent.fill("textarea[name=notes]", "Needs a network admin").await;
    agent.submit("button[name=escalate]").await;
    agent.wait_for_text("#ticket-history", "scalat").await;
    agent.screenshot("07-ticket-escalated").await;
    agent.audit().await;
    // The escalation went to the admins: the admin now holds the step.
    admin.open(&format!("/ui/tickets/{number}/")).await;
    assert!(
        admin.has("button[name=escalate]").await,
        "the admin holds the escalated step"
    );
    admin.audit().await;
    agent.close().await;
    admin.close().await;
}

/// Adds a step through the editor's new-step row.
async fn add_step(tab: &Tab, name: &str, role: &str, start: bool, end: bool) {
    tab.fill("input[form=step-new][name=name]", name).await;
    tab.choose("select[form=step-new][name=role]", role).await;
    if start {
        tab.click("input[form=step-new][name=is_start]").await;
    }
    if end {
        tab.click("input[form=step-new][name=is_end]").await;
    }
    tab.submit("#step-new button[value=add]").await;
    tab.wait_for_text("p.saved", "Saved").await;
    tab.audit().await;
}

/// Adds a transition through the editor's new-transition row.
async fn add_transition(tab: &Tab, from: &str, action: &str, to: &str) {
    tab.choose("select[form=transition-new][name=from]", from).await;
    tab.fill("input[form=transition-new][name=name]", action).await;
    tab.choose("select[form=transition-new][name=to]", to).await;
    tab.submit("#transition-new button[value=add]").await;
    tab.wait_for_text("p.saved", "Saved").await;
    tab.audit().await;
}

async fn nodes(tab: &Tab) -> usize {
    tab.client
        .find_all(fantoccini::Locator::Css("#preview .workflow-diagram .node"))
        .await
        .expect("nodes")
        .len()
}

#[tokio::test]
async fn an_admin_builds_a_workflow_sees_validation_and_the_diagram_change_and_publishes() {
    let _turn = TURN.lock().await;
    let world = world().await;
    let tab = world.signed_in(ADMIN, true).await;
    tab.open("/ui/workflows/").await;
    tab.screenshot("08-workflows").await;
    tab.fill("#new-workflow input[name=name]", "Laptop Requests").await;
    tab.fill("#new-workflow input[name=category]", "Laptop").await;
    tab.submit("#new-workflow button").await;
    assert!(
        tab.path().await.starts_with("/ui/workflows/"),
        "to the new draft's editor"
    );
    tab.wait_for_text("h1", "Laptop Requests").await;
    assert_eq!(nodes(&tab).await, 0);
    let problems = tab.text("#validation").await;
    assert!(
        !problems.contains("No problems"),
        "an empty workflow cannot be published: {problems}"
    );

    // A bad weight is refused with the field named, and the typed row is kept.
    tab.fill("input[form=step-new][name=name]", "Check request").await;
    tab.fill("input[form=step-new][name=weight]", "zero").await;
    tab.submit("#step-new button[value=add]").await;
    tab.wait_for_text("#fault", "weight").await;
    assert_eq!(
        tab.attr("input[form=step-new][name=name]", "value").await.as_deref(),
        Some("Check request")
    );
    tab.audit_allowing(&["422"]).await;
    tab.fill("input[form=step-new][name=weight]", "1").await;

    add_step(&tab, "Check request", "tts:Admin", true, false).await;
    assert_eq!(nodes(&tab).await, 1);
    add_step(&tab, "Hand over", "tts:Asset Manager", false, true).await;
    assert_eq!(nodes(&tab).await, 2);
    add_transition(&tab, "Check request", "Approve", "Hand over").await;
    let problems = tab.text("#validation").await;
    assert!(
        !problems.contains("No problems"),
        "the end step has no completing action yet: {problems}"
    );
    add_transition(&tab, "Hand over", "Done", "(completes the task)").await;
    tab.wait_for_text("#validation", "No problems").await;
    assert!(tab.has("#preview .workflow-diagram .edge").await);

    // The SLA per priority, in hours.
    tab.fill("#details input[name=sla_high]", "8").await;
    tab.fill("#details input[name=sla_critical]", "2").await;
    tab.submit("#details button").await;
    tab.wait_for_text("p.saved", "Saved").await;
    assert_eq!(
        tab.attr("#details input[name=sla_high]", "value").await.as_deref(),
        Some("8")
    );
    tab.screenshot("09-workflow-editor").await;

    tab.submit("#publish").await;
    tab.wait_for_text("p.saved", "Published").await;
    tab.wait_for_text("h1 .status", "active").await;
    assert!(!tab.has("#details").await, "an active workflow is frozen");
    tab.audit().await;

    // The dry run now routes a Laptop ticket to it.
    tab.open("/ui/workflows/?category=Laptop&priority=medium").await;
    tab.wait_for_text(".dry-run", "Laptop Requests").await;
    tab.audit().await;
    tab.close().await;
}

#[tokio::test]
async fn the_dashboard_chart_drills_down_to_the_filtered_list_and_every_screen_renders() {
    let _turn = TURN.lock().await;
    let world = world().await;
    let requester = world.signed_in(EMPLOYEE, true).await;
    let first = file_ticket(&requester, "Monitor flickers").await;
    file_ticket(&requester, "Keyboard missing keys").await;
    requester.close().await;

    let admin = world.signed_in(ADMIN, true).await;
    admin.screenshot("10-dashboard-admin").await;
    let bar = "svg a.bar.high";
    assert!(admin.has(bar).await, "a bar for the two high tickets");
    let title = admin.text(&format!("{bar} title")).await;
    admin.submit(bar).await;
    let path = admin.path().await;
    assert!(
        path.starts_with("/ui/tickets/?") && path.contains("priority=high"),
        "{path}"
    );
    let rows = admin
        .client
        .find_all(fantoccini::Locator::Css("table.list tbody tr"))
        .await
        .expect("rows")
        .len();
    assert_eq!(rows, 2, "the list shows what the bar counted ({title})");
    admin.audit().await;

    for (path, shot, expect) in [
        ("/ui/notifications/", "11-notifications", "Notifications"),
        ("/ui/reports/", "12-reports", "Reports"),
        ("/ui/users/", "13-users", "Users"),
        ("/ui/profile", "14-profile", "Profile"),
        ("/ui/tickets/?scope=all", "15-ticket-list-admin", "Tickets"),
    ] {
        admin.open(path).await;
        admin.wait_for_text("h1", expect).await;
        admin.screenshot(shot).await;
        admin.audit().await;
    }
    admin.open(&format!("/ui/tickets/{first}/")).await;
    admin.open("/ui/no-such-page").await;
    admin.wait_for_text("h1", "Not found").await;
    admin.screenshot("16-not-found").await;
    admin.audit_allowing(&["404"]).await;
    admin.close().await;
}

#[tokio::test]
async fn the_agent_flow_works_with_javascript_off() {
    let _turn = TURN.lock().await;
    let world = world().await;
    let requester = world.signed_in(EMPLOYEE, false).await;
    assert_eq!(requester.attr("html", "data-js").await, None, "the script did not run");
    let number = file_ticket(&requester, "Mouse double-clicks").await;
    requester.fill("textarea[name=content]", "Since Monday.").await;
    requester.submit("form[action$='/comments'] button").await;
    requester.wait_for_text("#comment-list", "Since Monday.").await;
    requester.close().await;

    let admin = world.signed_in(ADMIN, false).await;
    act(&admin, &number, "Accept", "IT, please").await;
    assert_eq!(current_step(&admin).await, "Resolve Ticket");
    admin.close().await;
    let agent = holder(&world, &number, false).await;
    act(&agent, &number, "Resolve", "Replaced the mouse").await;
    assert_eq!(current_step(&agent).await, "Finalize Ticket");
    agent.screenshot("17-ticket-without-javascript").await;
    agent.audit().await;
    agent.close().await;
}
