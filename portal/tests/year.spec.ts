// The year in the portal, in the order the cycle runs it, on the demo
// region's campaign: a provider's program returned with remarks and
// resubmitted, accepted, scored blind by two experts, voted by the
// council with the tally live, approved by the ministry, scheduled; an
// educator counts down to the window, finds the last seat taken, waits
// on the list (a lost answer retried without a second application),
// withdraws, enrolls in the other group; after the window the provider
// pushes the completion by CSV, the educator answers the questionnaire,
// downloads the certificate and the public page verifies it.
//
// The ministry moves the calendar from its own screen at each step. The
// steps share the platform's state: they run in order, once (the "year"
// project runs after the desktop and phone projects, whose tests expect
// the demo as seeded).
import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { Api, calendar, day, shot, signIn, signOut } from "./helpers";

test.describe.configure({ mode: "serial" });
// Steps wait for events to travel between services; a loaded machine is slow.
test.setTimeout(180_000);

const PROGRAM = "Финансовая грамотность на уроках математики";

/** The ministry sets the calendar on its screen. */
async function moveCalendar(page: Page, phases: { phase: string; starts_on: string; ends_on: string }[], open: string) {
  const names: Record<string, string> = {
    needs_survey: "Анкетирование потребностей",
    program_submission: "Приём программ",
    expert_review: "Экспертиза программ",
    schedule: "Формирование расписания",
    applications: "Приём заявлений педагогов",
    post_course: "Мониторинг после обучения",
  };
  await signIn(page, "ministry");
  await page.getByRole("link", { name: "Календарь и финансирование" }).click();
  await expect(page.getByRole("heading", { name: "Календарь кампании" })).toBeVisible();
  for (const p of phases) {
    if (p.starts_on) await page.getByLabel(`${names[p.phase]}: Начало`).fill(p.starts_on);
    await page.getByLabel(`${names[p.phase]}: Окончание`).fill(p.ends_on);
  }
  await page.getByRole("button", { name: "Сохранить календарь" }).click();
  await expect(page.getByRole("status")).toHaveText("Календарь сохранён");
  await expect(page.getByText("Сейчас идёт:")).toContainText(open);
  await signOut(page);
}

test("a provider drafts a program; the operator returns it with remarks; it is resubmitted and accepted", async ({ page }) => {
  await signIn(page, "provider_admin");
  await page.getByRole("link", { name: "Мои программы" }).click();
  await page.getByLabel("Название", { exact: true }).fill(PROGRAM);
  await page.getByLabel("Направление", { exact: true }).fill("Предметные компетенции");
  await page.getByLabel("Тема", { exact: true }).fill("Функциональная грамотность");
  await page.getByLabel("Аннотация").fill("Задачи с финансовым содержанием на уроках математики 5–9 классов");
  await page.getByLabel("Объём, часов").fill("36");
  await page.getByLabel("Для предметов (через запятую)").fill("Математика");
  // It addresses the digital deficit the demo teacher's diagnostic showed.
  await page.getByLabel(/Компетенции, которые развивает программа/).fill("D.1");
  await page.getByLabel(/Модули/).fill("Теория; 16; тест\nПрактика; 20; проект");
  await page.getByRole("button", { name: "Сохранить черновик" }).click();
  const card = page.getByRole("listitem").filter({ hasText: PROGRAM });
  await expect(card).toContainText("Черновик");
  await expect(card).toContainText("✓ Часы модулей складываются в объём программы");
  await shot(page, "provider-draft");
  await card.getByRole("button", { name: "Отправить на проверку" }).click();
  await expect(page.getByRole("status")).toHaveText("Программа отправлена на проверку");
  await signOut(page);

  await signIn(page, "regional_operator");
  await page.getByRole("link", { name: "Экспертиза программ" }).click();
  const submitted = page.getByRole("listitem").filter({ hasText: PROGRAM });
  await submitted.getByLabel("Замечания").fill("Уточните планируемые результаты обучения");
  await shot(page, "operator-technical-review");
  await submitted.getByRole("button", { name: "Вернуть на доработку" }).click();
  await expect(page.getByRole("status")).toHaveText("Программа возвращена поставщику с замечаниями");
  await signOut(page);

  await signIn(page, "provider_admin");
  await page.getByRole("link", { name: "Мои программы" }).click();
  await expect(card).toContainText("Возвращена на доработку");
  await expect(card).toContainText("Замечания оператора: Уточните планируемые результаты обучения");
  await shot(page, "provider-remarks");
  // Unchanged, it is refused; the provider addresses the remarks first.
  await card.getByRole("button", { name: "Отправить повторно" }).click();
  await expect(page.getByRole("alert")).toContainText("устраните замечания");
  await card.getByRole("button", { name: "Изменить программу" }).click();
  const edit = card.getByRole("form", { name: "Изменить программу" });
  await edit.getByLabel("Аннотация").fill(
    "Задачи с финансовым содержанием на уроках математики 5–9 классов. Результат: банк задач и план урока",
  );
  await edit.getByRole("button", { name: "Сохранить изменения" }).click();
  await expect(page.getByRole("status")).toHaveText("Изменения сохранены");
  await card.getByRole("button", { name: "Отправить повторно" }).click();
  await expect(page.getByRole("status")).toHaveText("Программа отправлена на проверку");
  await signOut(page);

  await signIn(page, "regional_operator");
  await page.getByRole("link", { name: "Экспертиза программ" }).click();
  await submitted.getByRole("button", { name: "Принять на экспертизу" }).click();
  await expect(page.getByRole("status")).toHaveText("Программа принята на экспертизу");
  await signOut(page);
});

test("the ministry opens the expert review; two experts score the program blind", async ({ page, request }) => {
  await moveCalendar(page, calendar("expert_review"), "Экспертиза программ");

  await signIn(page, "regional_operator");
  await page.getByRole("link", { name: "Экспертиза программ" }).click();
  await page.getByRole("button", { name: "Назначить экспертов" }).click();
  await expect(page.getByText("Заключений: 0, ожидается: 2, отказов: 0")).toBeVisible();
  const assignments = page.waitForEvent("download");
  await page.getByRole("button", { name: "Скачать CSV" }).click();
  expect(readFileSync((await (await assignments).path())!, "utf8")).toContain(PROGRAM);
  await signOut(page);

  // Blind: the platform does not tell an expert whose program it is.
  const expertApi = await Api.as(request, "expert");
  const assigned = (await expertApi.call("GET", "/api/v1/programs?limit=50")).body.items;
  expect(assigned.map((x: { provider_name: string }) => x.provider_name)).toEqual([""]);

  for (const [login, scores] of [
    ["expert", ["9", "8", "4"]],
    ["expert2", ["8", "9", "5"]],
  ] as const) {
    await signIn(page, login);
    await page.getByRole("link", { name: "Мои экспертизы" }).click();
    const card = page.getByRole("listitem").filter({ hasText: PROGRAM });
    // Blind: the expert scores the content, not the provider.
    await expect(card).not.toContainText("Институт развития образования");
    const form = card.getByRole("form", { name: "Оценка программы" });
    const inputs = form.getByRole("spinbutton");
    await expect(inputs).toHaveCount(3);
    for (let i = 0; i < 3; i++) await inputs.nth(i).fill(scores[i]);
    await form.getByLabel("Комментарий").fill("Программа соответствует приоритетам года");
    await shot(page, `expert-scoring-${login}`);
    await form.getByRole("button", { name: "Отправить заключение" }).click();
    await expect(card.getByRole("status")).toContainText("Заключение отправлено");
    await signOut(page);
  }
});

test("the council votes with the tally live; the ministry approves the protocol", async ({ page, browser }) => {
  await signIn(page, "regional_operator");
  await page.getByRole("link", { name: "Экспертный совет" }).click();
  await page.getByRole("button", { name: "Открыть заседание" }).click();
  await expect(page.getByText("Идёт голосование")).toBeVisible();
  await signOut(page);

  await signIn(page, "council_member");
  await page.getByRole("link", { name: "Экспертный совет" }).click();
  const row = page.getByRole("row").filter({ hasText: PROGRAM });
  await row.getByRole("button", { name: "За" }).click();
  await expect(row.getByRole("button", { name: "За" })).toHaveAttribute("aria-pressed", "true");
  await expect(row.locator("[data-tally=for]")).toHaveText("1");

  // The second member votes elsewhere; the first one's screen follows.
  const other = await browser.newPage();
  await signIn(other, "council2");
  await other.getByRole("link", { name: "Экспертный совет" }).click();
  await other.getByRole("row").filter({ hasText: PROGRAM }).getByRole("button", { name: "За" }).click();
  await expect(other.getByRole("row").filter({ hasText: PROGRAM }).locator("[data-tally=for]")).toHaveText("2");
  await other.close();
  await expect(row.locator("[data-tally=for]")).toHaveText("2", { timeout: 10_000 });
  await shot(page, "council-tally");
  await signOut(page);

  await signIn(page, "regional_operator");
  await page.getByRole("link", { name: "Экспертный совет" }).click();
  await page.getByRole("button", { name: "Закрыть заседание и сформировать протокол" }).click();
  await expect(page.getByText("Протокол на утверждении")).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: PROGRAM })).toContainText("включить в реестр");
  await signOut(page);

  await signIn(page, "ministry");
  await page.getByRole("link", { name: "Экспертный совет" }).click();
  await shot(page, "ministry-protocol");
  await page.getByRole("button", { name: "Утвердить протокол" }).click();
  await expect(page.getByText("Протокол утверждён")).toBeVisible();
  await signOut(page);
});

test("the provider schedules two groups; the educator counts down to the window", async ({ page, browser }) => {
  await moveCalendar(page, calendar("schedule"), "Формирование расписания");

  await signIn(page, "provider_admin");
  await page.getByRole("link", { name: "Мои программы" }).click();
  const card = page.getByRole("listitem").filter({ hasText: PROGRAM });
  await expect(card).toContainText("Включена в реестр");
  for (const seats of ["1", "5"]) {
    const form = card.getByRole("form", { name: "Новая группа" });
    await form.getByLabel("Начало").fill(day(8));
    await form.getByLabel("Окончание").fill(day(12));
    await form.getByLabel("Мест").fill(seats);
    await form.getByLabel("Наименьший состав").fill("1");
    if (seats === "5") {
      // The bigger group meets in person: where, in which municipality.
      await form.getByLabel("Дистанционно").uncheck();
      await form.getByLabel("Муниципалитет").selectOption({ index: 1 });
      await form.getByLabel("Адрес занятий").fill("Казань, ул. Баумана, 1");
    }
    await form.getByRole("button", { name: "Добавить группу" }).click();
    await expect(card.getByText(`мест: ${seats}`)).toBeVisible();
  }
  await shot(page, "provider-groups");
  await signOut(page);

  await signIn(page, "regional_operator");
  await page.getByRole("link", { name: "Экспертиза программ" }).click();
  await page.getByRole("button", { name: "Утвердить расписание" }).click();
  await expect(page.getByRole("status")).toHaveText("Расписание утверждено: группы опубликованы в каталоге");
  await signOut(page);

  await signIn(page, "educator");
  // The home screen offers it among the programs for their deficits.
  const forDeficits = page.getByRole("listitem").filter({
    hasText: "закрывает: Цифровые образовательные ресурсы (D.1)",
  });
  await expect(forDeficits.getByRole("link", { name: PROGRAM })).toBeVisible();
  await page.getByRole("link", { name: "Каталог программ" }).click();
  const entry = page.getByRole("listitem").filter({ hasText: PROGRAM });
  await expect(entry).toContainText("Групп: 2", { timeout: 10_000 });
  await entry.getByRole("link", { name: "Подать заявление" }).click();
  await expect(page.getByRole("heading", { name: PROGRAM })).toBeVisible();
  await expect(page.getByRole("timer")).toContainText(/До открытия приёма: \d+ д \d\d:\d\d:\d\d/);
  await expect(page.getByRole("button", { name: "Подать заявление" })).toHaveCount(0);
  await shot(page, "educator-countdown");
  // The same screen on a teacher's 360 px phone.
  const phone = await browser.newPage({ viewport: { width: 360, height: 740 }, isMobile: true });
  await signIn(phone, "educator");
  await phone.goto(page.url());
  await expect(phone.getByRole("timer")).toBeVisible();
  await shot(phone, "phone-educator-countdown");
  await phone.close();
  await signOut(page);
});

test("in the window: the last seat is taken, the educator waits, retries safely, withdraws and enrolls elsewhere", async ({
  page,
  request,
}) => {
  await moveCalendar(page, calendar("applications"), "Приём заявлений педагогов");

  // A colleague of the same school takes group 1's only seat, filed by
  // the school's operator on its screen (the first tries may find
  // enrollment not yet told that the window opened).
  const teacher = await Api.as(request, "educator");
  const me = (await teacher.call("GET", "/api/v1/me")).body;
  const operator = await Api.as(request, "org_operator");
  const school = (await operator.call("GET", "/api/v1/me")).body.user.grants[0].scope_id;
  const campaign = (await operator.call("GET", "/api/v1/campaigns?limit=1")).body.items[0].id;
  const numbers = (
    await operator.call("GET", `/api/v1/campaigns/${campaign}/unique-numbers?status=assigned&organization_id=${school}&limit=50`)
  ).body;
  const colleague = numbers.items.find((n: { educator_id: string }) => n.educator_id !== me.user.educator_id);
  expect(colleague, JSON.stringify(numbers)).toBeDefined();
  const entry = (await operator.call("GET", `/api/v1/catalog?campaign_id=${campaign}&limit=50`)).body.items.find(
    (e: { title: string }) => e.title === PROGRAM,
  );
  const small = entry.groups.find((g: { capacity: number }) => g.capacity === 1).id;
  await signIn(page, "org_operator");
  await page.getByRole("link", { name: "Заявления педагогов" }).click();
  const form = page.getByRole("form", { name: "Подать заявление за педагога" });
  // The colleague found by the number on their paper application, the
  // groups by a search of the catalog (a region's lists are too long).
  await form.getByLabel("уникальный номер из заявления").fill(colleague.number);
  await form.getByRole("button", { name: "Найти педагога" }).click();
  await expect(form.getByLabel("Педагог")).toHaveValue(colleague.educator_id);
  const offered = (g: string) => form.getByLabel(/^Группа/).locator(`option[value="${g}"]`);
  await expect(offered(small)).toHaveCount(1);
  await form.getByLabel("Поиск программы").fill("нет такой программы");
  await form.getByLabel("Поиск программы").press("Enter");
  await expect(offered(small)).toHaveCount(0);
  await form.getByLabel("Поиск программы").fill(PROGRAM);
  await form.getByLabel("Поиск программы").press("Enter");
  await form.getByLabel(/^Группа/).selectOption(small);
  // The groups the colleague ranked after it, as a paper application
  // lists them; the first group has its seat, so it is the one taken.
  const roomy = entry.groups.find((g: { capacity: number }) => g.capacity === 5).id;
  await form.getByRole("button", { name: "Добавить запасную группу" }).click();
  await form.getByLabel("Запасная группа 1").selectOption(roomy);
  // Read on the way (a fetch's body is not shown to a mere observer).
  let filed: unknown = null;
  await page.route("**/api/v1/applications", async (route) => {
    filed = route.request().postDataJSON();
    await route.continue();
  });
  await expect(async () => {
    await form.getByRole("button", { name: "Подать", exact: true }).click();
    await expect(form.getByRole("status")).toContainText("зачислен(а) в группу", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await page.unroute("**/api/v1/applications");
  expect(filed).toMatchObject({ group_id: small, fallback_group_ids: [roomy] });
  await expect(form.getByRole("status")).toContainText(PROGRAM);
  // The list above shows what was just filed, and the form is cleared.
  await expect(page.getByRole("table")).toContainText(colleague.educator_name);
  await expect(form.getByLabel("Педагог")).toHaveValue("");
  // The colleague's number is used now: found again, it is refused at once
  // with its state (once allocation has heard of the application).
  await form.getByLabel("уникальный номер из заявления").fill(colleague.number);
  await expect(async () => {
    await form.getByLabel("уникальный номер из заявления").press("Enter");
    await expect(form.getByRole("alert")).toContainText("по нему уже подано заявление", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(form.getByLabel("Педагог")).toHaveValue("");
  await shot(page, "operator-on-behalf");
  await signOut(page);

  await signIn(page, "educator");
  await page.goto(`/#/apply/${entry.program_id}`);
  const full = page.getByRole("listitem").filter({ has: page.locator("[data-seats]") }).filter({ hasText: "из 1" });
  await expect(full).toContainText("свободно мест: 0 из 1");
  await full.getByRole("button", { name: "Подать заявление" }).click();
  await expect(full.getByRole("status")).toContainText("Мест в группе нет");

  // The answer to joining the waitlist is lost on the way back: the
  // platform took the application, the browser never heard.
  let lost = false;
  await page.route("**/api/v1/applications", async (route) => {
    if (lost) return route.continue();
    lost = true;
    await route.fetch();
    await route.abort("connectionreset");
  });
  await full.getByRole("button", { name: "Встать в лист ожидания" }).click();
  await expect(full.getByRole("alert")).toContainText("Ответ не получен");
  await shot(page, "educator-retry");
  await full.getByRole("button", { name: "Повторить" }).click();
  await expect(full.getByRole("status")).toContainText("Вы в листе ожидания, место в очереди: 1.");
  await page.unroute("**/api/v1/applications");
  await shot(page, "educator-waitlisted");

  // One application, not two.
  const mine = (await teacher.call("GET", "/api/v1/me/applications")).body.items;
  expect(mine.filter((a: { group_id: string }) => a.group_id === small)).toHaveLength(1);

  await page.getByRole("link", { name: "Мои заявления" }).first().click();
  const application = page.getByRole("listitem").filter({ hasText: PROGRAM });
  await expect(application).toHaveCount(1);
  await expect(application).toContainText("В листе ожидания, место в очереди: 1");
  await application.getByRole("button", { name: "Отозвать" }).click();
  await expect(page.getByRole("status")).toHaveText("Заявление отозвано");
  await expect(application).toContainText("Отозвано");

  // The full group again, with the program's other groups accepted after
  // it: the one request takes a seat in the group that has one.
  // The screen reads the seats of all the program's groups in one request.
  const seatReads: string[] = [];
  const onRequest = (r: { url: () => string }) => {
    if (r.url().endsWith("/availability")) seatReads.push(new URL(r.url()).pathname);
  };
  page.on("request", onRequest);
  await page.goto(`/#/apply/${entry.program_id}`);
  const open = page.getByRole("listitem").filter({ has: page.locator("[data-seats]") }).filter({ hasText: "из 5" });
  await expect(open).toContainText("свободно мест: 5 из 5");
  expect(seatReads.length).toBeGreaterThan(0);
  expect(new Set(seatReads)).toEqual(new Set([`/api/v1/programs/${entry.program_id}/availability`]));
  page.off("request", onRequest);
  // The platform, busy with applications, refuses the screen's reads of
  // seats left: the last figure stays, saying when it was read, until a
  // read is answered again.
  await page.route("**/availability", (route) =>
    route.fulfill({ status: 503, headers: { "retry-after": "1" }, json: { code: "unavailable" } }),
  );
  await expect(open).toContainText("свободно мест: 5 из 5 (на ", { timeout: 25_000 });
  await expect(open).toContainText("обновится позже");
  await page.unroute("**/availability");
  await expect(open).not.toContainText("обновится позже", { timeout: 15_000 });
  await page.getByLabel("записать меня в другую группу этой программы").check();
  await full.getByRole("button", { name: "Подать заявление" }).click();
  await expect(full.getByRole("status")).toContainText("вы зачислены в другую группу программы — Группа");
  await expect(open).toContainText("свободно мест: 4 из 5");
  const enrolled = (await teacher.call("GET", "/api/v1/me/applications")).body.items;
  expect(enrolled.filter((a: { status: string }) => a.status === "enrolled")).toHaveLength(1);
  await shot(page, "educator-enrolled");

  // Next year's way in: groups of any programs ranked on the educator's
  // own list, sent as one application. The platform's answer is played
  // here (the educator is enrolled already; the rule is tested in Rust):
  // what is checked is the request the list makes, in the list's order.
  await full.getByRole("button", { name: "В мой список" }).click();
  await open.getByRole("button", { name: "В мой список" }).click();
  await expect(full.getByRole("link", { name: "В списке" })).toBeVisible();
  await page.getByRole("link", { name: "Мой список групп" }).click();
  const list = page.getByRole("list", { name: "Мой список групп" });
  await expect(list.getByRole("listitem")).toHaveCount(2);
  await list.getByRole("listitem").first().getByRole("button", { name: /^Ниже/ }).click();
  // At the bottom its "Ниже" is disabled: the focus stays on the entry.
  await expect(list.getByRole("listitem").last().getByRole("button", { name: /^Выше/ })).toBeFocused();
  let sent: { group_id?: string; fallback_group_ids?: string[] } = {};
  await page.route("**/api/v1/applications", async (route) => {
    sent = route.request().postDataJSON();
    const application = { ...enrolled[0], group_id: sent.group_id, status: "enrolled" };
    await route.fulfill({ status: 201, contentType: "application/json", body: JSON.stringify(application) });
  });
  await page.getByRole("button", { name: "Подать заявление по списку" }).click();
  await expect(page.getByRole("status")).toContainText(`Вы зачислены: ${PROGRAM}`);
  expect(sent).toMatchObject({ group_id: roomy, fallback_group_ids: [small] });
  await page.unroute("**/api/v1/applications");
  await shot(page, "educator-shortlist");
  // The list stays in this browser for the user until emptied.
  await page.reload();
  await expect(list.getByRole("listitem")).toHaveCount(2);
  await signOut(page);
});

test("after the window the provider pushes the completion by CSV; the certificate is issued after the questionnaire and verified publicly", async ({
  page,
  request,
}) => {
  // The window closed yesterday; the groups are formed.
  const closed = calendar("applications").map((p) =>
    p.phase === "applications" ? { ...p, ends_on: day(-1) } : p,
  );
  await moveCalendar(page, closed, "перерыв между этапами");
  const operator = await Api.as(request, "regional_operator");
  const campaign = (await operator.call("GET", "/api/v1/campaigns?limit=1")).body.items[0].id;
  await expect(async () => {
    const r = await operator.call("POST", `/api/v1/campaigns/${campaign}/formation`, {});
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }).toPass({ timeout: 15_000 });

  // The provider reads the roster and uploads the completions file.
  await signIn(page, "provider_admin");
  await page.getByRole("link", { name: "Мои программы" }).click();
  const group = page.getByRole("listitem").filter({ hasText: "мест: 5", hasNotText: PROGRAM });
  await group.getByText("Список слушателей").click();
  const learner = group.locator("ol li").first();
  await expect(learner).toBeVisible();
  const educatorId = (await learner.locator(".code").textContent())!.trim();
  const groupId = (await group.locator(".code").first().textContent())!.trim();
  await shot(page, "provider-roster");
  const rosterFile = page.waitForEvent("download");
  await group.getByRole("button", { name: "Скачать список (CSV)" }).click();
  expect(readFileSync((await (await rosterFile).path())!, "utf8")).toContain(educatorId);
  const [y, m, d] = day(-1).split("-");
  const csv =
    "ID педагога;ID группы;Статус;Вид документа;Серия;Номер;Дата выдачи;Регистрационный номер;Часы\n" +
    `${educatorId};${groupId};завершил;pk_certificate;16;000777;${d}.${m}.${y};РН-2026-777;36\n`;
  await page.getByRole("link", { name: "Итоги обучения" }).click();
  // Monitoring learns the fixed roster from enrollment's event: until
  // then the batch is refused as not yet formed, and is sent again.
  await expect(async () => {
    await page.getByLabel("Файл").setInputFiles({ name: "completions.csv", mimeType: "text/csv", buffer: Buffer.from(csv, "utf8") });
    await page.getByRole("button", { name: "Отправить" }).click();
    await expect(page.getByRole("status")).toHaveText("Принято: новых 1, без изменений 0", { timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  await shot(page, "provider-completions-accepted");
  await signOut(page);

  // The questionnaire opens for the learner; the certificate follows it.
  await signIn(page, "educator");
  const questionnaire = page.getByRole("listitem").filter({ hasText: "Анкета слушателя по итогам курса" });
  await expect(async () => {
    await page.goto("/#/windows");
    await page.reload();
    await expect(questionnaire).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  await questionnaire.getByRole("button", { name: "Ответить" }).click();
  const questions = questionnaire.getByRole("group");
  await expect(questions.first()).toBeVisible();
  const n = await questions.count();
  for (let i = 0; i < n; i++) await questions.nth(i).getByRole("radio").last().check();
  await questionnaire.getByRole("button", { name: "Отправить ответы" }).click();
  await expect(questionnaire.getByRole("status")).toHaveText("Ответы сохранены");

  const certificate = page.getByRole("listitem").filter({ hasText: PROGRAM }).filter({ hasText: "Сертификат" });
  await expect(async () => {
    await page.goto("/#/documents");
    await page.reload();
    await expect(certificate).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  await shot(page, "educator-certificate");
  const download = page.waitForEvent("download");
  await certificate.getByRole("button", { name: "Скачать PDF" }).click();
  const pdf = await download;
  expect(pdf.suggestedFilename()).toMatch(/\.pdf$/);
  const verify = await certificate.getByRole("link", { name: "Ссылка для проверки" }).getAttribute("href");
  expect(verify).toMatch(/\/verify\//);
  await signOut(page);

  // Anyone may check it, signed in or not.
  await page.goto(verify!);
  await expect(page.getByText("Документ действителен.")).toBeVisible();
  await expect(page.getByText(PROGRAM)).toBeVisible();
  await shot(page, "public-verification");
});

test("the regional operator reads the applications with their reasons, exports them, and sees the overview", async ({ page }) => {
  await signIn(page, "regional_operator");
  await page.getByRole("link", { name: "Заявления педагогов" }).click();
  const table = page.getByRole("table", { name: "Заявления педагогов" });
  // The colleague enrolled in group 1; the teacher's waitlist place
  // withdrawn ("Не подходит расписание"), then enrolled in group 2.
  await expect(page.getByText("Всего: 3")).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: "Отозвано" })).toContainText("Не подходит расписание");
  await page.getByLabel("Статус").selectOption("enrolled");
  await expect(page.getByText("Всего: 2")).toBeVisible();
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Скачать CSV" }).click();
  expect((await download).suggestedFilename()).toBe("applications.csv");
  await shot(page, "operator-applications");

  await page.getByRole("link", { name: "Сводка" }).click();
  await expect(page.getByRole("img", { name: "Зачислено" })).toBeVisible();
  // All three applications were filed today, in the region's calendar.
  const perDay = page.getByRole("figure").filter({ has: page.getByRole("img", { name: "Заявления по дням подачи" }) });
  await perDay.getByText("Числа").click();
  const [y, m, d] = day(0).split("-");
  await expect(perDay.getByRole("row")).toHaveText([`${d}.${m}.${y}3`]);
  await expect(page.getByRole("img", { name: /Доля завершивших/ })).toBeVisible();
  await shot(page, "operator-dashboard");
});
