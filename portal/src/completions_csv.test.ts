import { describe, expect, it } from "vitest";
import { parse } from "./completions_csv";

describe("a provider's completions file", () => {
  it("reads Russian headings, Excel dates, quoted cells and status words", () => {
    const file =
      "\uFEFFID педагога;ID группы;Статус;Причина;Вид документа;Серия;Номер;Дата выдачи;Регистрационный номер;Часы\n" +
      "e1;g1;завершил;;pk_certificate;63;000123;01.03.2027;РН-123;36\n" +
      'e2;g1;не завершил;"болезнь; справка";;;;;;\n';
    const { learners, unknownColumns } = parse(file);
    expect(unknownColumns).toEqual([]);
    expect(learners).toHaveLength(2);
    expect(learners[0]).toMatchObject({
      educator_id: "e1",
      group_id: "g1",
      status: "completed",
      document_number: "000123",
      issued_on: "2027-03-01",
      hours: 36,
    });
    expect(learners[1]).toMatchObject({ status: "not_completed", reason: "болезнь; справка", hours: 0 });
    expect(learners[1].document_number).toBeUndefined();
  });

  it("names the columns it does not know and reads comma files", () => {
    const { learners, unknownColumns } = parse("educator_id,status,colour\ne1,completed,red\n");
    expect(unknownColumns).toEqual(["colour"]);
    expect(learners[0].status).toBe("completed");
  });
});
