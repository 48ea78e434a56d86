-- The account's numbers of one country and type, in number order: a filtered list
-- (`countryCode:US,type:LOCAL`) counts and pages one range of this index instead of
-- reading every number of the account.
create index phone_number_kind on phone_number (account_id, country_code, number_type, phone_number);
